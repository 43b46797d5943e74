"""The admin page: open recommendations with their evidence; approve as someone else."""

from __future__ import annotations

import pytest
from django.test import Client

from bench.optimizer_workload import WORKLOAD
from kernel.models import User
from optimizer import services
from optimizer.detections import MISSING_INDEX
from optimizer.models import Recommendation
from optimizer.report import build_report
from optimizer.workload import from_sql
from tests.finance.test_admin import sign_in
from tests.optimizer.conftest import FIXTURE_ALIASES
from tests.optimizer.test_services import REQUESTER

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)
URL = "/admin/optimizer/recommendation/"


@pytest.fixture
def recorded(committed: None, hypopg: None) -> Recommendation:
    report = build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES)
    recs = services.recommendations_record(findings=report.findings, actor=REQUESTER)
    return next(r for r in recs if r.rule == MISSING_INDEX and "customer_id" in r.index_name)


def test_admin_lists_evidence_and_approves_as_the_operator(
    recorded: Recommendation, client: Client, alice: User, bob: User
) -> None:
    sign_in(client, "tenant-a", "alice@a.test")
    # The work queue: open recommendations by default, the filter shown as chosen.
    listing = client.get(URL)
    assert listing.status_code == 200
    assert recorded.title.encode() in listing.content
    assert listing.context["cl"].get_filters_params() == {"status__exact": ["open"]}
    detail = client.get(f"{URL}{recorded.pk}/change/")
    assert detail.status_code == 200
    assert b"plan_before" in detail.content and b"CONCURRENTLY" in detail.content
    done = client.post(URL, {"action": "approve", "_selected_action": [str(recorded.pk)]})
    assert done.status_code == 302
    recorded.refresh_from_db(using="kernel")
    assert (recorded.status, recorded.approved_by) == ("approved", f"user:{alice.pk}")

    client.logout()
    sign_in(client, "tenant-a", "bob@a.test")  # not a superuser
    assert client.get(f"{URL}?status__exact=open").status_code == 403
