"""Project-layer plumbing any app uses: idempotent creation (aibos.idempotency) and the scoped
fetch by id (aibos.db.fetch)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from aibos import idempotency
from aibos.db.fetch import scoped_get
from aibos.errors import ApplicationError, Conflict, NotFound
from aibos.tenancy import tenant_context
from kernel.models import Role, Tenant, User
from tests.factories import RoleFactory


def test_the_fingerprint_is_canonical() -> None:
    a, canonical = idempotency.fingerprint({"b": uuid.UUID(int=1), "a": [1, "x"]})
    b, _ = idempotency.fingerprint({"a": [1, "x"], "b": str(uuid.UUID(int=1))})
    assert a == b and len(a) == 64
    assert canonical == {"a": [1, "x"], "b": str(uuid.UUID(int=1))}


def test_a_replay_returns_the_row_and_a_clash_names_the_fields() -> None:
    digest, payload = idempotency.fingerprint({"amount": "1.00", "memo": "x"})
    row = SimpleNamespace(request_hash=digest, request_payload=payload)
    assert idempotency.replay(row, key="k", digest=digest, payload=payload) is row
    other, other_payload = idempotency.fingerprint({"amount": "2.00", "memo": "x", "ref": "r"})
    with pytest.raises(Conflict) as exc:
        idempotency.replay(row, key="k", digest=other, payload=other_payload)
    assert exc.value.extra == {
        "code": "idempotency_mismatch",
        "differing_fields": ["amount", "ref"],
    }
    assert exc.value.message == idempotency.MISMATCH.format(key="k", fields="amount, ref")


@pytest.mark.parametrize(
    ("header", "code"),
    [(None, "idempotency_key_required"), ("  ", "idempotency_key_required"), ("a b", "invalid")],
)
def test_the_key_header_is_required_and_visible_ascii(header: str | None, code: str) -> None:
    extra = {} if header is None else {"HTTP_IDEMPOTENCY_KEY": header}
    request = Request(APIRequestFactory().post("/", **extra))
    with pytest.raises(ApplicationError) as exc:
        idempotency.key_from(request)
    assert exc.value.extra["code"] == code and exc.value.status == 400


def test_the_response_says_when_it_is_a_replay() -> None:
    assert idempotency.respond({}, True).status_code == 201
    replayed = idempotency.respond({}, False)
    assert replayed.status_code == 200 and replayed[idempotency.REPLAY_HEADER] == "true"


@pytest.mark.django_db(databases="__all__")
def test_scoped_get_is_the_same_404_for_missing_and_another_tenants(
    alice: User, charlie: User
) -> None:
    role_b = RoleFactory(tenant=Tenant.objects.get(pk=charlie.tenant_id))
    missing = uuid.uuid4()
    with tenant_context(alice.tenant_id):
        errors = []
        for pk in (missing, role_b.pk):
            with pytest.raises(NotFound) as exc:
                scoped_get(Role, tenant_id=alice.tenant_id, pk=pk)
            errors.append(exc.value.message.replace(str(pk), "<id>"))
        assert errors == ["Role <id> does not exist."] * 2
        assert scoped_get(Role, tenant_id=alice.tenant_id, pk=missing, missing_ok=True) is None
        # Asking for the other tenant's id under its tenant id is still refused (RLS and the
        # context's own scope agree): the explicit predicate is defense in depth, not the gate.
        assert scoped_get(Role, tenant_id=charlie.tenant_id, pk=role_b.pk, missing_ok=True) is None
        assert scoped_get(User, tenant_id=alice.tenant_id, pk=alice.pk, lock=True) == alice
        inactive = User.objects.filter(is_active=False)
        assert scoped_get(inactive, tenant_id=alice.tenant_id, pk=alice.pk, missing_ok=True) is None
