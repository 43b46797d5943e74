"""N+1: a view looping over 10 foreign keys is flagged at its line; select_related is clean."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory, override_settings

from aibos.tenancy import tenant_context
from kernel import services
from kernel.models import Tenant, User
from optimizer.capture import capture_queries
from optimizer.middleware import QueryCaptureMiddleware
from optimizer.nplusone import NPlusOneDetected, detect, forbid_n_plus_one
from tests.factories import RoleFactory, system
from tests.optimizer import views

pytestmark = pytest.mark.django_db(databases="__all__")
LOOP_LINE = 14  # tests/optimizer/views.py: the list comprehension of roles_of_user


@pytest.fixture
def linked(tenant_a: Tenant, alice: User) -> User:
    for _ in range(10):
        role = RoleFactory(tenant=tenant_a)
        services.user_assign_role(actor=system(tenant_a), user=alice, role=role)
    return alice


def test_view_looping_over_ten_foreign_keys_is_flagged_with_its_line(linked: User) -> None:
    request = RequestFactory().get("/")
    with tenant_context(linked.tenant_id), capture_queries() as capture:
        views.roles_of_user(request, str(linked.id))
    (finding,) = detect(capture.queries)
    assert finding.count == 10
    assert finding.table == "kernel.roles"
    assert finding.fix == "select_related('role')"
    assert finding.location is not None
    assert (finding.location.file, finding.location.line) == ("tests/optimizer/views.py", LOOP_LINE)
    assert "tests/optimizer/views.py:14" in finding.message


def test_select_related_version_is_clean(linked: User) -> None:
    request = RequestFactory().get("/")
    with tenant_context(linked.tenant_id), capture_queries() as capture:
        views.roles_of_user_fixed(request, str(linked.id))
    assert detect(capture.queries) == []
    # One query for the links and their roles (the tenant context's own checks aside).
    assert len([q for q in capture.queries if "roles" in q.sql]) == 1


def test_four_repeats_are_not_an_n_plus_one(tenant_a: Tenant, alice: User) -> None:
    for _ in range(4):
        services.user_assign_role(
            actor=system(tenant_a), user=alice, role=RoleFactory(tenant=tenant_a)
        )
    with tenant_context(alice.tenant_id), capture_queries() as capture:
        views.roles_of_user(RequestFactory().get("/"), str(alice.id))
    assert detect(capture.queries) == []


def test_test_mode_raises_naming_the_fix(linked: User) -> None:
    with tenant_context(linked.tenant_id):
        with pytest.raises(NPlusOneDetected, match=r"select_related\('role'\)"):
            with forbid_n_plus_one():
                views.roles_of_user(RequestFactory().get("/"), str(linked.id))
        with forbid_n_plus_one():  # the fixed view passes
            views.roles_of_user_fixed(RequestFactory().get("/"), str(linked.id))


@override_settings(OPTIMIZER_NPLUSONE_RAISE=True)
def test_capture_middleware_raises_in_raise_mode(linked: User, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with override_settings(OPTIMIZER_CAPTURE_FILE=tmp_path / "capture.jsonl"):
        middleware = QueryCaptureMiddleware(lambda r: views.roles_of_user(r, str(linked.id)))
        with tenant_context(linked.tenant_id), pytest.raises(NPlusOneDetected):
            middleware(RequestFactory().get("/roles/"))
        lines = (tmp_path / "capture.jsonl").read_text().splitlines()
    # The ten lookups, each with its line, for optimizer_report.
    lookups = [json.loads(line) for line in lines if "views.py:14" in line]
    assert len([q for q in lookups if q["sql"].startswith('SELECT "kernel"."roles"')]) == 10
