"""Evidence packs: ``export.EvidenceExport`` builds one; ``verify.py`` (stdlib only) checks it.

:func:`export_pack` is what the ``evidence_export`` command and the tenant admin's action call:
it gathers the documents that go beside the data (governance checks, a snapshot of roles,
grants and policies, the latest Trust Test result, the compliance report).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connections

from aibos.db.governance_checks import run_checks
from aibos.db.roles import OWNER_ROLE, PLATFORM_ROLES, SCHEMAS
from assurance.evidence.export import COMPRESS_LEVEL, EvidenceExport, ExportResult, Period, Progress
from assurance.signing import load_signing_key

CATALOG_QUERIES = {
    "roles": (
        "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = ANY(%(roles)s) ORDER BY rolname"
    ),
    "row_level_security": (
        "SELECT format('%%I.%%I', n.nspname, c.relname) AS table, c.relrowsecurity AS enabled, "
        "c.relforcerowsecurity AS forced, pg_get_userbyid(c.relowner) AS owner "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v') ORDER BY 1"
    ),
    "policies": (
        "SELECT format('%%I.%%I', schemaname, tablename) AS table, policyname, cmd, permissive, "
        "roles::text[] AS roles, qual, with_check FROM pg_policies "
        "WHERE schemaname = ANY(%(schemas)s) ORDER BY 1, 2"
    ),
    "table_grants": (
        "SELECT format('%%I.%%I', n.nspname, c.relname) AS table, "
        "pg_get_userbyid(a.grantee) AS grantee, a.privilege_type "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
        "WHERE n.nspname = ANY(%(schemas)s) ORDER BY 1, 2, 3"
    ),
    "column_grants": (
        "SELECT format('%%I.%%I', n.nspname, c.relname) AS table, att.attname AS column, "
        "pg_get_userbyid(a.grantee) AS grantee, a.privilege_type "
        "FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a "
        "WHERE n.nspname = ANY(%(schemas)s) AND att.attacl IS NOT NULL ORDER BY 1, 2, 3, 4"
    ),
    "triggers": (
        "SELECT format('%%I.%%I', n.nspname, c.relname) AS table, t.tgname AS trigger, "
        "t.tgenabled AS enabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%(schemas)s) AND NOT t.tgisinternal ORDER BY 1, 2"
    ),
}


# Catalog reads run as the monitor role: pg_roles, pg_class ACLs, pg_policies and pg_trigger
# are readable by every role, so no owner connection is needed at runtime (the admin action).
CATALOG_ALIAS = "monitor"


def catalog_snapshot() -> dict[str, Any]:
    """Roles, RLS, policies, grants and triggers as the catalog holds them."""
    params = {"roles": [*PLATFORM_ROLES, OWNER_ROLE], "schemas": list(SCHEMAS)}
    snapshot: dict[str, Any] = {}
    with connections[CATALOG_ALIAS].cursor() as cur:
        for name, sql in CATALOG_QUERIES.items():
            cur.execute(sql, params)
            columns = [c.name for c in cur.description]
            snapshot[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    return snapshot


def governance_checks() -> list[dict[str, Any]]:
    with connections[CATALOG_ALIAS].cursor() as cur:
        return [
            {
                "check": r.name,
                "description": r.description,
                "passed": r.passed,
                "problems": r.problems,
            }
            for r in run_checks(cur)
        ]


# The governance views in a tenant's pack: catalog-wide views whole, the data views restricted to
# this tenant's rows (and, for the per-entry check, to its failures: a passing ledger is counted
# in the summaries, not listed entry by entry).
VIEW_ROWS = {
    # The per-entry check lists other tenants' entries: this tenant's are below.
    "kernel.v_governance_summary": "check_name <> 'double_entry'",
    "kernel.v_tenant_isolation_check": "true",
    "kernel.v_schema_boundary_check": "true",
    "finance.v_immutability_check": "true",
    "kernel.v_tenant_health": "tenant_id = %(tenant)s",
    "finance.v_journal_integrity_summary": "tenant_id = %(tenant)s",
    "finance.v_journal_integrity": "tenant_id = %(tenant)s",
    "finance.v_double_entry_check": "tenant_id = %(tenant)s AND status = 'FAIL'",
}


def governance_views(tenant_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """The governance views as the monitor reads them, for one tenant's pack (rows sorted, so
    the same state gives the same document)."""
    found: dict[str, list[dict[str, Any]]] = {}
    with connections[CATALOG_ALIAS].cursor() as cur:
        for view, where in VIEW_ROWS.items():
            cur.execute(f"SELECT * FROM {view} WHERE {where}", {"tenant": tenant_id})
            columns = [c.name for c in cur.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
            found[view] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return found


def latest_trust_test(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or settings.TRUST_TEST_RESULT)
    if not path.exists():
        return {"status": "not run", "looked_for": str(path)}
    try:
        result: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return {"status": "unreadable", "looked_for": str(path), "error": str(exc)}
    return result


def _data_time(tenant_id: UUID) -> str:
    from django.db import transaction

    with transaction.atomic(using="readonly"), connections["readonly"].cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        cur.execute("SELECT max(occurred_at) FROM kernel.audit_events")
        (latest,) = cur.fetchone()
    return latest.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if latest else "-"


def export_pack(
    tenant_id: UUID,
    tenant_slug: str,
    out: Path,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Progress | None = None,
    compress_level: int = COMPRESS_LEVEL,
    trust_result: Path | None = None,
    parallel: bool = True,
) -> ExportResult:
    from assurance.compliance import compliance_report

    trust = latest_trust_test(trust_result)
    as_of = _data_time(tenant_id)
    documents = {
        "governance_checks": governance_checks(),
        "governance_views": governance_views(tenant_id),
        "catalog": catalog_snapshot(),
        "trust_test": trust,
        # "When verified" is the data's own time, not the wall clock: the same state, the same
        # pack. The chain is the one the export itself just recomputed, link by link.
        "compliance": lambda chain: compliance_report(
            trust, as_of=as_of, tenant_ids=[tenant_id], chain=chain
        ),
    }
    return EvidenceExport(
        tenant_id,
        tenant_slug,
        load_signing_key(),
        period=Period(start, end),
        documents=documents,
        progress=progress,
        compress_level=compress_level,
        parallel=parallel,
    ).build(out)
