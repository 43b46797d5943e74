"""FastOutput writes what DRF itself would: every answer of the API, compared byte for byte with
the same request served through DRF's generic serializer path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework import serializers

from aibos.serializers import FastOutput
from finance import services
from tests.api_client import LIST_PATHS, Api
from tests.factories import system
from tests.finance.books import DAY, actor, cell_actor, make_payment, post_simple

pytestmark = pytest.mark.django_db(databases="__all__")


def _subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_every_answer_is_what_drf_itself_would_write(
    committed: None,
    cell: Api,
    books: SimpleNamespace,
    approvers: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    us = books.us
    posted = post_simple(us)
    fx, _ = services.journal_create_draft(  # a foreign line and its FX trading counterpart
        actor=system(books.tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        lines=[
            services.LineInput(us.accounts["1010"].pk, "debit", Decimal("100.00")),
            services.LineInput(us.accounts["7910"].pk, "credit", Decimal("100.00")),
        ],
        post=True,
    )
    draft, _ = services.journal_create_draft(
        actor=system(books.tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        lines=[services.LineInput(us.accounts["5000"].pk, "debit", Decimal("1.50"), "memo")],
    )
    reversal = services.journal_reverse(
        actor=system(books.tenant), entry_id=posted.pk, entry_date=DAY + dt.timedelta(days=1)
    )
    make_payment(books, "900.00", submit=False)
    make_payment(books, "950.00")
    approved = services.payment_approve(
        actor=actor(approvers.l1), payment_id=make_payment(books, "990.00").pk
    )
    paid = services.payment_mark_paid(actor=cell_actor(books.tenant.id), payment_id=approved.pk)
    paths = [
        *LIST_PATHS,
        *(f"journals/{e.pk}/" for e in (posted, fx, draft, reversal)),
        f"payments/{paid.pk}/",
        f"accounts/{us.accounts['5000'].pk}/balance/",
    ]
    FastOutput._plans.clear()
    fast = {path: cell.get(path).content for path in paths}
    written_by_plans = set(FastOutput._plans)
    # The same requests, written by DRF's own per-field path.
    monkeypatch.setattr(FastOutput, "to_representation", serializers.Serializer.to_representation)
    generic = {path: cell.get(path).content for path in paths}
    assert fast == generic
    assert all(len(body) > 50 for body in fast.values())
    # Every output serializer of the API took part (a new one this test misses fails it).
    import finance.apis  # noqa: F401  (every API module is loaded)

    leaves = {
        cls
        for cls in _subclasses(FastOutput)
        if not cls.__subclasses__() and not cls.__module__.startswith("tests.")
    }
    assert leaves <= written_by_plans, leaves - written_by_plans


def test_a_field_it_cannot_write_is_refused_when_the_plan_is_compiled() -> None:
    class WithRelated(FastOutput):
        owner = serializers.PrimaryKeyRelatedField(read_only=True)

    with pytest.raises(TypeError, match=r"WithRelated\.owner"):
        WithRelated(SimpleNamespace(owner=None)).data  # noqa: B018


def test_none_is_written_as_null_and_sources_are_followed() -> None:
    class Out(FastOutput):
        when = serializers.DateTimeField(allow_null=True)
        amount = serializers.DecimalField(source="money.amount", max_digits=9, decimal_places=2)
        upper = serializers.SerializerMethodField()

        def get_upper(self, obj: Any) -> str:
            return str(obj.name).upper()

    row = SimpleNamespace(when=None, money=SimpleNamespace(amount=Decimal("5")), name="ab")
    assert Out(row).data == {"when": None, "amount": "5.00", "upper": "AB"}
    assert Out(row).data == serializers.Serializer.to_representation(Out(row), row)
