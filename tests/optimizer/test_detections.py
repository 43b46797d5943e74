"""OFFSET, large sequential scans, missing tenant predicates; the workload sources."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from aibos.tenancy import tenant_context
from bench.optimizer_workload import TABLE, WORKLOAD
from kernel.models import Tenant
from optimizer.capture import capture_queries
from optimizer.detections import OFFSET_PAGINATION, SEQ_SCAN_LARGE, TENANT_PREDICATE
from optimizer.report import build_report
from optimizer.workload import (
    PGSS_NOT_LOADED,
    from_capture,
    from_sql,
    merge,
    pgss_rows_to_workload,
    pgss_status,
)
from tests.factories import RoleFactory
from tests.optimizer import views
from tests.optimizer.conftest import FIXTURE_ALIASES

pytestmark = pytest.mark.django_db(databases="__all__")


def test_offset_endpoint_is_found_from_the_parse_tree_with_the_depths_seen(
    tenant_a: Tenant, hypopg: None
) -> None:
    for _ in range(7):
        RoleFactory(tenant=tenant_a)
    with tenant_context(tenant_a.id), capture_queries() as capture:
        for page in ("2", "3"):
            views.roles_page(RequestFactory().get("/", {"page": page}))
        workload = from_capture(capture.queries)
        report = build_report(workload=workload)
    (finding,) = report.by_rule(OFFSET_PAGINATION)  # two depths, one template, one finding
    assert finding.table == "kernel.roles"
    assert finding.evidence["offsets_seen"] == [2, 4]
    assert finding.location is not None and finding.location.file == "tests/optimizer/views.py"
    assert "keyset" in finding.message and "KeysetPaginator" in finding.snippet
    assert '"tenant_id", "created_at", "id"' in finding.ddl  # the matching tenant-leading key
    assert finding.level == "note"  # 7 roles: not at scale


def test_offset_depth_on_the_large_table_is_estimated_honestly(hypopg: None) -> None:
    report = build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES)
    (finding,) = report.by_rule(OFFSET_PAGINATION)
    assert finding.evidence["offsets_seen"] == [100, 5000]
    assert finding.level == "warning"
    assert finding.evidence["rows_in_scope"] == pytest.approx(600, rel=0.05)  # per tenant
    # From pg_stat_statements alone (OFFSET $2) the depth is unknown, and the report says so.
    pgss_like = [(WORKLOAD[0][0].replace("OFFSET 100", "OFFSET $2"), 1000, 12.0)]
    report = build_report(workload=from_sql(pgss_like), schema_aliases=FIXTURE_ALIASES)
    (finding,) = report.by_rule(OFFSET_PAGINATION)
    assert "depth unknown" in finding.message and finding.evidence["offsets_seen"] == []


def test_tenant_table_queries_without_tenant_predicate_are_flagged(hypopg: None) -> None:
    report = build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES)
    flagged = {f.evidence["sql"] for f in report.by_rule(TENANT_PREDICATE)}
    customer, status, update = WORKLOAD[2][0], WORKLOAD[3][0], WORKLOAD[4][0]
    assert flagged == {customer, status, update}  # not the list, which has tenant_id = $1


def test_large_sequential_scans_are_flagged_with_what_avoids_them(hypopg: None) -> None:
    report = build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES)
    by_sql = {f.evidence["sql"]: f for f in report.by_rule(SEQ_SCAN_LARGE)}
    assert set(by_sql) == {WORKLOAD[0][0], WORKLOAD[2][0], WORKLOAD[3][0]}
    assert f"the suggested index {TABLE} (customer_id) avoids it" in by_sql[WORKLOAD[2][0]].message
    assert "add a tenant_id predicate" in by_sql[WORKLOAD[3][0]].message  # status: no index


def test_pg_stat_statements_absence_is_detected_with_how_to_enable() -> None:
    status = pgss_status("monitor")
    if status.loaded:
        pytest.skip("this server preloads pg_stat_statements")
    assert status.message == PGSS_NOT_LOADED
    assert "shared_preload_libraries" in status.message and "restart" in status.message


def test_pg_stat_statements_rows_merge_by_fingerprint_and_count_hidden_ones() -> None:
    rows = [
        ("SELECT * FROM t WHERE a = $1", 10, 2.0, 10),
        ("select *  from t where a = $1", 30, 4.0, 30),  # same template, another role
        ("<insufficient privilege>", 5, 1.0, 5),
    ]
    workload, notes = pgss_rows_to_workload(rows, role="aibos_monitor_role")
    (query,) = workload
    assert (query.calls, query.mean_ms, query.weight) == (40, 3.5, 140.0)
    assert notes == [
        "1 pg_stat_statements entries belong to other roles and show '<insufficient "
        "privilege>' to aibos_monitor_role: GRANT pg_read_all_stats TO aibos_monitor_role."
    ]
    # The capture adds the depths and code locations pg_stat_statements cannot have.
    given = from_sql([("SELECT * FROM t WHERE a = 5", 1, 1.0)])
    (merged,) = merge(given, workload)
    assert merged.source == "pg_stat_statements" and merged.calls == 40
    assert merged.sql == "SELECT * FROM t WHERE a = $1"
