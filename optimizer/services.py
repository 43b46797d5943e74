"""Writes of the optimizer: record findings, approve, apply, and check an applied index's use.

Recommendations are global rows on the kernel alias; each write runs in one transaction that
sets ``app.actor`` so the audit trigger records who did it. Applying an index is DDL on the
owner connection (``default``): ``CREATE INDEX CONCURRENTLY`` cannot run in a transaction, so
it runs in autocommit, after ``SET lock_timeout`` (it waits for writers to finish before it
starts; an unbounded wait would queue every later writer behind it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from psycopg import sql as pgsql

from aibos.actors import Actor
from aibos.errors import Conflict, Forbidden
from optimizer.detections import Finding
from optimizer.models import INDEX_RULE, REMOVE_RULE, Recommendation

ALIAS = "kernel"
OWNER_ALIAS = "default"

NOT_AN_INDEX = "Only index recommendations are applied by the optimizer; {rule} is a code change."
NOT_OPEN = "This recommendation is {status}; only an open one can be approved."
SELF_APPROVAL = "The requester of a change cannot approve it; another operator must."
NEEDS_APPROVAL = (
    "In production an index is applied only with a recorded approval: approve this "
    "recommendation first (someone other than {requester})."
)
ALREADY_APPLIED = "This index is already applied."
NOT_APPLICABLE = "This recommendation is {status}; only an open or approved one is applied."
BAD_INDEX = "This recommendation does not describe an index that can be built: {why}."
BUILD_RUNNING = "A build of index {name} is still running; wait for it to finish or fail."
APPLY_FAILED = "Building index {name} failed and nothing was recorded as applied: {error}"


def _as(actor: Actor) -> None:
    with connections[ALIAS].cursor() as cur:
        cur.execute("SELECT set_config('app.actor', %s, true)", [actor.label])


def recommendations_record(*, findings: Iterable[Finding], actor: Actor) -> list[Recommendation]:
    """Insert new findings as open recommendations; refresh the evidence of known ones (a
    dismissed or applied one keeps its status)."""
    now = timezone.now()
    out = []
    with transaction.atomic(using=ALIAS):
        _as(actor)
        for f in findings:
            rec, created = Recommendation.objects.using(ALIAS).get_or_create(
                key=f.key,
                defaults={
                    "rule": f.rule_id,
                    "level": f.level,
                    "title": f.title[:300],
                    "message": f.message,
                    "table_name": f.table,
                    "location": str(f.location or "")[:300],
                    "ddl": f.ddl,
                    "migration": f.migration,
                    "snippet": f.snippet,
                    "index_name": f.index_name,
                    "evidence": f.evidence,
                    "last_seen_at": now,
                    "requested_by": actor.label,
                },
            )
            if not created:
                rec.evidence, rec.message, rec.last_seen_at = f.evidence, f.message, now
                rec.save(using=ALIAS, update_fields=["evidence", "message", "last_seen_at"])
            out.append(rec)
    return out


def recommendation_approve(*, recommendation: Recommendation, actor: Actor) -> Recommendation:
    if recommendation.rule != INDEX_RULE:
        raise Conflict(NOT_AN_INDEX.format(rule=recommendation.rule))
    if recommendation.status != Recommendation.Status.OPEN:
        raise Conflict(NOT_OPEN.format(status=recommendation.status))
    # Checked here for a clear message; the CHECK constraint holds it for any writer.
    if actor.label == recommendation.requested_by:
        raise Forbidden(SELF_APPROVAL)
    with transaction.atomic(using=ALIAS):
        _as(actor)
        recommendation.status = Recommendation.Status.APPROVED
        recommendation.approved_by = actor.label
        recommendation.approved_at = timezone.now()
        recommendation.save(using=ALIAS, update_fields=["status", "approved_by", "approved_at"])
    return recommendation


def _index_scans(name: str) -> int | None:
    with connections[ALIAS].cursor() as cur:
        cur.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", [name])
        row = cur.fetchone()
    return int(row[0]) if row else None


def _index_statement(recommendation: Recommendation, cur: Any) -> tuple[Any, Any]:
    """The CREATE INDEX rebuilt from the recommendation's table, columns and name — never its
    stored text, which a runtime role could have edited — checked against the catalog: the
    table exists, every column is one of its own, the name fits PostgreSQL's 63 bytes."""
    schema, _, table = recommendation.table_name.rpartition(".")
    columns = (
        recommendation.evidence.get("columns")
        if isinstance(recommendation.evidence, dict)
        else None
    )
    name = recommendation.index_name
    if not (schema and table and name and isinstance(columns, list) and columns):
        raise Conflict(BAD_INDEX.format(why="table, columns or index name missing"))
    if len(name.encode()) > 63 or not all(isinstance(c, str) for c in columns):
        raise Conflict(
            BAD_INDEX.format(why="index name over 63 bytes or a column that is not a name")
        )
    cur.execute(
        "SELECT c.oid, array_agg(a.attname::text) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') GROUP BY c.oid",
        [schema, table],
    )
    row = cur.fetchone()
    if row is None:
        raise Conflict(BAD_INDEX.format(why=f"no table {schema}.{table}"))
    oid, existing = row
    unknown = [c for c in columns if c not in existing]
    if unknown:
        raise Conflict(BAD_INDEX.format(why=f"{schema}.{table} has no column {', '.join(unknown)}"))
    create = pgsql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {}.{} ({})").format(
        pgsql.Identifier(name),
        pgsql.Identifier(schema),
        pgsql.Identifier(table),
        pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns),
    )
    return oid, create


def _create_index(recommendation: Recommendation) -> None:
    """The DDL on the owner connection, in autocommit: drop an INVALID leftover of an earlier,
    interrupted build on the same table (IF NOT EXISTS would keep it and leave the table
    unindexed) unless a build of it is still running, then build."""
    owner = connections[OWNER_ALIAS]
    owner.ensure_connection()
    with owner.cursor() as cur:
        oid, create = _index_statement(recommendation, cur)
        if owner.in_atomic_block:
            raise RuntimeError("CREATE INDEX CONCURRENTLY must run outside a transaction")
        schema = recommendation.table_name.rpartition(".")[0]
        cur.execute("SET lock_timeout = %s", [settings.OPTIMIZER_LOCK_TIMEOUT])
        try:
            cur.execute(
                "SELECT c.oid, EXISTS (SELECT 1 FROM pg_stat_progress_create_index p "
                "WHERE p.index_relid = c.oid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = %s AND c.relname = %s AND NOT x.indisvalid",
                [oid, recommendation.index_name],
            )
            leftover = cur.fetchone()
            if leftover is not None and leftover[1]:
                raise Conflict(BUILD_RUNNING.format(name=recommendation.index_name))
            if leftover is not None:
                cur.execute(
                    pgsql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}")
                    .format(pgsql.Identifier(schema), pgsql.Identifier(recommendation.index_name))
                    .as_string(cur.connection)
                )
            cur.execute(create.as_string(cur.connection))
        except DatabaseError as exc:
            raise Conflict(APPLY_FAILED.format(name=recommendation.index_name, error=exc)) from exc
        finally:
            cur.execute("RESET lock_timeout")


def recommendation_apply(
    *, recommendation: Recommendation, actor: Actor, production: bool | None = None
) -> Recommendation:
    """Build the index. On a development machine (``OPTIMIZER_AUTO_APPLY``) without approval;
    otherwise only once approved: the check runs here and again as a CHECK constraint."""
    production = (not settings.OPTIMIZER_AUTO_APPLY) if production is None else production
    if recommendation.rule != INDEX_RULE:
        raise Conflict(NOT_AN_INDEX.format(rule=recommendation.rule))
    if recommendation.status == Recommendation.Status.APPLIED:
        raise Conflict(ALREADY_APPLIED)
    if recommendation.status not in (Recommendation.Status.OPEN, Recommendation.Status.APPROVED):
        raise Conflict(NOT_APPLICABLE.format(status=recommendation.get_status_display().lower()))
    if production and not recommendation.approved_by:
        raise Forbidden(NEEDS_APPROVAL.format(requester=recommendation.requested_by))
    _create_index(recommendation)
    with transaction.atomic(using=ALIAS):
        _as(actor)
        recommendation.status = Recommendation.Status.APPLIED
        recommendation.applied_by = actor.label
        recommendation.applied_at = timezone.now()
        recommendation.applied_in = (
            Recommendation.Environment.PRODUCTION
            if production
            else Recommendation.Environment.DEVELOPMENT
        )
        recommendation.idx_scan_at_apply = _index_scans(recommendation.index_name) or 0
        recommendation.save(using=ALIAS)
    return recommendation


def recommendations_check_usage(
    *, actor: Actor, now: dt.datetime | None = None
) -> list[Recommendation]:
    """For every applied index: record its scans; once it has been in place
    ``OPTIMIZER_UNUSED_DAYS`` with at most ``OPTIMIZER_UNUSED_SCANS`` scans since, propose
    dropping it. Returns the recommendations whose removal was proposed now."""
    now = now or timezone.now()
    proposed = []
    applied = Recommendation.objects.using(ALIAS).filter(
        rule=INDEX_RULE, status=Recommendation.Status.APPLIED
    )
    for rec in applied:
        scans = _index_scans(rec.index_name)
        with transaction.atomic(using=ALIAS):
            _as(actor)
            rec.idx_scan_last, rec.usage_checked_at = scans, now
            fields = ["idx_scan_last", "usage_checked_at"]
            age = now - (rec.applied_at or now)
            used = (scans or 0) - (rec.idx_scan_at_apply or 0)
            if age >= dt.timedelta(days=settings.OPTIMIZER_UNUSED_DAYS) and (
                used <= settings.OPTIMIZER_UNUSED_SCANS
            ):
                rec.status = Recommendation.Status.REMOVAL_PROPOSED
                fields.append("status")
                proposed.append(rec)
            rec.save(using=ALIAS, update_fields=fields)
        if rec.status == Recommendation.Status.REMOVAL_PROPOSED:
            schema = rec.table_name.split(".")[0] if "." in rec.table_name else "public"
            recommendations_record(
                findings=[
                    Finding(
                        rule_id=REMOVE_RULE,
                        level="note",
                        title=f"Drop unused index {rec.index_name}",
                        message=(
                            f"{rec.index_name} was applied {age.days} days ago and has been "
                            f"scanned {used} times since: it costs writes and storage for "
                            "nothing. Drop it (manually, after checking replicas' use)."
                        ),
                        key=f"remove:{rec.key}"[:64],
                        table=rec.table_name,
                        ddl=f'DROP INDEX CONCURRENTLY IF EXISTS "{schema}"."{rec.index_name}";',
                        evidence={"idx_scan_since_apply": used, "days": age.days},
                    )
                ],
                actor=actor,
            )
    return proposed
