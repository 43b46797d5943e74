"""Guardrails: approval by someone else, recorded; production never applies unapproved; the
database refuses what the service refuses; applied indexes are watched for use."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import override_settings

from aibos.actors import Actor
from aibos.errors import Conflict, Forbidden
from bench.optimizer_workload import SCHEMA, TABLE, WORKLOAD
from optimizer import services
from optimizer.detections import MISSING_INDEX, TENANT_PREDICATE
from optimizer.models import Recommendation
from optimizer.report import build_report
from optimizer.workload import from_sql
from tests.optimizer.conftest import FIXTURE_ALIASES

PLATFORM = uuid.UUID(int=0)
REQUESTER = Actor.for_command(PLATFORM, "optimizer_report")
OPERATOR = Actor.for_user(PLATFORM, uuid.UUID(int=7))


@pytest.fixture
def recorded(hypopg: None) -> list[Recommendation]:
    report = build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES)
    return services.recommendations_record(findings=report.findings, actor=REQUESTER)


def _index_rec(recs: list[Recommendation], column: str) -> Recommendation:
    return next(r for r in recs if r.rule == MISSING_INDEX and column in r.index_name)


def _audit_actors(row_id: uuid.UUID) -> list[str]:
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT actor FROM kernel.audit_events WHERE row_id = %s ORDER BY id", [str(row_id)]
        )
        return [r[0] for r in cur.fetchall()]


# Committed, so the owner connection sees the audit rows (global rows: tenant NULL, which no
# runtime role's RLS policy shows).
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_recording_is_idempotent_and_audited(
    recorded: list[Recommendation], clean_index: None
) -> None:
    again = services.recommendations_record(
        findings=build_report(workload=from_sql(WORKLOAD), schema_aliases=FIXTURE_ALIASES).findings,
        actor=REQUESTER,
    )
    assert {r.id for r in again} == {r.id for r in recorded}
    rec = _index_rec(recorded, "customer_id")
    assert rec.evidence["reduction_pct"] >= 95 and rec.evidence["queries"][0]["plan_before"]
    assert _audit_actors(rec.id)[0] == "command:optimizer_report"


@pytest.mark.django_db(databases="__all__")
def test_production_refuses_to_apply_without_an_approval(recorded: list[Recommendation]) -> None:
    rec = _index_rec(recorded, "customer_id")
    with override_settings(OPTIMIZER_AUTO_APPLY=False):
        with pytest.raises(Forbidden, match="recorded approval"):
            services.recommendation_apply(recommendation=rec, actor=OPERATOR)
    rec.refresh_from_db(using="kernel")
    assert rec.status == "open" and rec.applied_at is None


@pytest.mark.django_db(databases="__all__")
def test_requester_cannot_approve_and_the_database_refuses_it_too(
    recorded: list[Recommendation],
) -> None:
    rec = _index_rec(recorded, "customer_id")
    with pytest.raises(Forbidden):
        services.recommendation_approve(recommendation=rec, actor=REQUESTER)
    # The service is not the only guard: the kernel role's own UPDATE is refused by a CHECK.
    with pytest.raises(IntegrityError, match="approver_not_requester"):
        with transaction.atomic(using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(
                "UPDATE kernel.optimizer_recommendations SET approved_by = requested_by, "
                "approved_at = now(), status = 'approved' WHERE id = %s",
                [str(rec.id)],
            )
    with pytest.raises(IntegrityError, match="production_needs_approval"):
        with transaction.atomic(using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(
                "UPDATE kernel.optimizer_recommendations SET applied_in = 'production', "
                "status = 'applied' WHERE id = %s",
                [str(rec.id)],
            )


@pytest.mark.django_db(databases="__all__")
def test_query_rewrites_are_never_approved_or_applied(recorded: list[Recommendation]) -> None:
    rewrite = next(r for r in recorded if r.rule == TENANT_PREDICATE)
    with pytest.raises(Conflict):
        services.recommendation_approve(recommendation=rewrite, actor=OPERATOR)
    with pytest.raises(Conflict):
        services.recommendation_apply(recommendation=rewrite, actor=OPERATOR)
    with pytest.raises(IntegrityError, match="only_indexes_applied"):
        with transaction.atomic(using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(
                "UPDATE kernel.optimizer_recommendations SET status = 'applied' WHERE id = %s",
                [str(rewrite.id)],
            )


@pytest.fixture
def clean_index(committed: None) -> Iterator[None]:
    # `committed` truncates the governed tables (recommendations, audit events) afterwards.
    yield
    with connections["default"].cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS {SCHEMA}.orders_customer_id_opt_idx")


# Committed: CREATE INDEX CONCURRENTLY runs outside any transaction, on the owner connection.
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_approved_index_is_applied_concurrently_then_watched_for_use(
    recorded: list[Recommendation], clean_index: None
) -> None:
    rec = _index_rec(recorded, "customer_id")
    # A build interrupted earlier leaves an INVALID index of the same name: it is replaced.
    with connections["default"].cursor() as cur:
        cur.execute(f"CREATE INDEX orders_customer_id_opt_idx ON {TABLE} (customer_id)")
        cur.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
            f"'{SCHEMA}.orders_customer_id_opt_idx'::regclass"
        )
    services.recommendation_approve(recommendation=rec, actor=OPERATOR)
    with override_settings(OPTIMIZER_AUTO_APPLY=False):
        services.recommendation_apply(recommendation=rec, actor=OPERATOR)
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = "
            f"'{SCHEMA}.orders_customer_id_opt_idx'::regclass"
        )
        assert cur.fetchone() == (True,)
    rec.refresh_from_db(using="kernel")
    assert (rec.status, rec.applied_in, rec.approved_by) == (
        "applied",
        "production",
        OPERATOR.label,
    )
    assert _audit_actors(rec.id)[-1] == OPERATOR.label

    # Unused for the whole window: removal is proposed, as a manual change.
    later = rec.applied_at + dt.timedelta(days=15)  # type: ignore[operator]
    (proposed,) = services.recommendations_check_usage(actor=REQUESTER, now=later)
    assert proposed.id == rec.id and proposed.status == "removal_proposed"
    removal = Recommendation.objects.using("kernel").get(rule="optimizer.unused_index")
    assert "DROP INDEX CONCURRENTLY" in removal.ddl


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_development_applies_without_approval(
    recorded: list[Recommendation], clean_index: None
) -> None:
    rec = _index_rec(recorded, "customer_id")
    with override_settings(OPTIMIZER_AUTO_APPLY=True):
        services.recommendation_apply(recommendation=rec, actor=REQUESTER)
    rec.refresh_from_db(using="kernel")
    assert (rec.status, rec.applied_in, rec.approved_by) == ("applied", "development", "")
    # Used since (more than OPTIMIZER_UNUSED_SCANS scans): not proposed for removal.
    with connections["finance"].cursor() as cur:
        for n in range(60):
            cur.execute(f"SELECT 1 FROM {TABLE} WHERE customer_id = %s", [n])
        cur.execute("SELECT pg_stat_force_next_flush()")  # counters reach the view when idle
    for _ in range(30):
        if (services._index_scans("orders_customer_id_opt_idx") or 0) > 50:
            break
        time.sleep(0.1)
    later = rec.applied_at + dt.timedelta(days=30)  # type: ignore[operator]
    assert services.recommendations_check_usage(actor=REQUESTER, now=later) == []
    rec.refresh_from_db(using="kernel")
    assert rec.status == "applied" and (rec.idx_scan_last or 0) > 50


# Committed: the apply runs outside any transaction, on the owner connection.
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_apply_builds_from_the_recommendation_fields_never_its_stored_text(
    recorded: list[Recommendation], clean_index: None
) -> None:
    rec = _index_rec(recorded, "customer_id")
    # A runtime role may UPDATE the row: whatever it writes into `ddl` is never executed.
    rec.ddl = (
        f"CREATE INDEX IF NOT EXISTS x ON {TABLE} (status); "
        "SELECT set_config('application_name', 'injected', false)"
    )
    with override_settings(OPTIMIZER_AUTO_APPLY=True):
        services.recommendation_apply(recommendation=rec, actor=OPERATOR)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT current_setting('application_name')")
        assert cur.fetchone() != ("injected",)
        cur.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            f"WHERE indexrelid = '{SCHEMA}.orders_customer_id_opt_idx'::regclass"
        )
        assert "(customer_id)" in cur.fetchone()[0]


@pytest.mark.django_db(databases="__all__")
def test_apply_refuses_columns_the_table_does_not_have(recorded: list[Recommendation]) -> None:
    rec = _index_rec(recorded, "customer_id")
    rec.evidence = {**rec.evidence, "columns": ['customer_id"); DROP TABLE x; --']}
    with override_settings(OPTIMIZER_AUTO_APPLY=True):
        with pytest.raises(Conflict, match="has no column"):
            services.recommendation_apply(recommendation=rec, actor=OPERATOR)


def test_a_multi_statement_workload_entry_is_never_prepared() -> None:
    from optimizer.whatif import single_dml

    assert single_dml("SELECT id FROM kernel.users WHERE id = $1")
    assert not single_dml(
        "SELECT id FROM kernel.users WHERE id = $1; SELECT set_config('a', 'b', false)"
    )
    assert not single_dml("CREATE TABLE x (id int)")
    assert not single_dml("SELECT FROM WHERE")


def test_identifiers_are_quoted_with_embedded_quotes_doubled() -> None:
    from aibos.db.identifiers import ident
    from optimizer.parsing import TableRef

    assert ident('we"ird') == '"we""ird"'
    assert TableRef("finance", 'a"b').quoted == '"finance"."a""b"'
