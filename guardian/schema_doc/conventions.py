"""The project's schema conventions, each stated and checked against the live catalog.

A convention that does not hold everywhere is not hidden: the document lists where it does
not, so a reviewer sees the exceptions (and whether each is a documented design choice).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aibos.db.governance import TENANT_PREDICATE
from aibos.db.roles import OWNER_ROLE, PLATFORM_ROLES
from assurance.governance_views import TENANT_PREDICATE_DEPARSED
from guardian.catalog import Catalog, Table, View

FORBIDDEN_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")
# Column names that hold money or quantities of it; they must never be floating point.
MONEY_COLUMN = re.compile(r"(^|_)(amount|balance|debit|credit|total|price|fee)s?$")
FLOAT_TYPES = ("real", "double precision")


@dataclass(frozen=True)
class ConventionResult:
    title: str
    statement: str
    applies_to: int  # how many objects the check looked at
    exceptions: tuple[str, ...]  # where it does not hold

    @property
    def holds(self) -> bool:
        return not self.exceptions


def _tenant_tables(catalog: Catalog) -> list[Table]:
    return [t for t in catalog.tables if t.has_column("tenant_id")]


def _squeezed(expr: str | None) -> str:
    return re.sub(r"\s", "", expr or "")


def _schema_qualified(catalog: Catalog) -> tuple[int, list[str]]:
    # Every table read lives in a named platform schema; nothing of ours is on a search_path.
    return len(catalog.tables), [t.qualified_name for t in catalog.tables if t.schema == "public"]


def _forced_rls(catalog: Catalog) -> tuple[int, list[str]]:
    tables = _tenant_tables(catalog)
    bad = []
    for t in tables:
        if not (t.rls_enabled and t.rls_forced):
            bad.append(f"{t.qualified_name}: RLS enabled={t.rls_enabled}, forced={t.rls_forced}")
        elif not any(_squeezed(p.using) == TENANT_PREDICATE_DEPARSED for p in t.policies):
            bad.append(f"{t.qualified_name}: no policy with the tenant predicate")
    return len(tables), bad


def _tenant_leading_index(catalog: Catalog) -> tuple[int, list[str]]:
    tables = _tenant_tables(catalog)
    return len(tables), [
        t.qualified_name
        for t in tables
        if not any(i.columns and i.columns[0] == "tenant_id" for i in t.indexes)
    ]


def _uuid_ids(catalog: Catalog) -> tuple[int, list[str]]:
    tables = [t for t in catalog.tables if t.has_column("id")]
    return len(tables), [
        f"{t.qualified_name}.id is {t.column('id').type}"
        for t in tables
        if t.column("id").type != "uuid"
    ]


def _timestamptz(catalog: Catalog) -> tuple[int, list[str]]:
    columns = [(t, c) for t in catalog.tables for c in t.columns if c.type.startswith("timestamp")]
    return len(columns), [
        f"{t.qualified_name}.{c.name} is {c.type}"
        for t, c in columns
        if c.type != "timestamp with time zone"
    ]


def _numeric_money(catalog: Catalog) -> tuple[int, list[str]]:
    columns = [
        (t, c)
        for t in catalog.tables
        for c in t.columns
        if MONEY_COLUMN.search(c.name) or c.type in FLOAT_TYPES
    ]
    return len(columns), [
        f"{t.qualified_name}.{c.name} is {c.type}"
        for t, c in columns
        if c.type in FLOAT_TYPES or not c.type.startswith("numeric")
    ]


def _timestamps(catalog: Catalog) -> tuple[int, list[str]]:
    bad = []
    for t in catalog.tables:
        missing = [n for n in ("created_at", "updated_at") if not t.has_column(n)]
        if missing:
            bad.append(f"{t.qualified_name} (no {', '.join(missing)})")
    return len(catalog.tables), bad


def _least_privilege(catalog: Catalog) -> tuple[int, list[str]]:
    relations: list[Table | View] = [*catalog.tables, *catalog.views]
    bad = [f"{r.qualified_name} is owned by {r.owner}" for r in relations if r.owner != OWNER_ROLE]
    for r in relations:
        for g in r.grants:
            if g.grantee == "PUBLIC":
                bad.append(f"PUBLIC has {', '.join(g.privileges)} on {r.qualified_name}")
            elif g.grantee in PLATFORM_ROLES:
                forbidden = [p for p in g.privileges if p in FORBIDDEN_PRIVILEGES]
                if forbidden:
                    bad.append(f"{g.grantee} has {', '.join(forbidden)} on {r.qualified_name}")
    return len(relations), bad


def _security_invoker(catalog: Catalog) -> tuple[int, list[str]]:
    return len(catalog.views), [v.qualified_name for v in catalog.views if not v.security_invoker]


def _no_cross_schema_keys(catalog: Catalog) -> tuple[int, list[str]]:
    keys = [(t, k) for t in catalog.tables for k in t.foreign_keys]
    return len(keys), [
        f"{t.qualified_name}.{k.name} -> {k.referenced}"
        for t, k in keys
        if k.referenced_schema != t.schema
    ]


CONVENTIONS: Sequence[tuple[str, str, Callable[[Catalog], tuple[int, list[str]]]]] = (
    (
        "Schema-qualified tables",
        "Every table lives in its app's schema (`kernel`, `finance`, `config`) and is named "
        "schema-qualified in code (`Meta.db_table = 'finance\".\"journal_entries'`); nothing "
        "relies on `search_path`. Django's own bookkeeping tables stay in `public` and are not "
        "documented here.",
        _schema_qualified,
    ),
    (
        "Tenant rows: `tenant_id` and forced row-level security",
        "Every table with a `tenant_id` column has row-level security enabled **and forced** "
        "(the owner is subject to it too) and a policy with the one inlinable, fail-closed "
        f"predicate `{TENANT_PREDICATE}` (`aibos/db/governance.py`, `TENANT_PREDICATE`) for "
        "USING and WITH CHECK.",
        _forced_rls,
    ),
    (
        "Tenant-leading indexes",
        "Every tenant table has an index whose first column is `tenant_id`, so the policy's "
        "predicate drives an index scan.",
        _tenant_leading_index,
    ),
    (
        "No cross-schema foreign keys",
        "A foreign key stays inside its schema (one Django database alias per schema); rows "
        "link across schemas by a plain `tenant_id` UUID, by design.",
        _no_cross_schema_keys,
    ),
    (
        "UUID primary keys",
        "Surrogate keys are `id uuid`.",
        _uuid_ids,
    ),
    (
        "Timestamps with time zone",
        "Every timestamp column is `timestamp with time zone` (stored as UTC).",
        _timestamptz,
    ),
    (
        "Exact money",
        "Money is `numeric` (never `real`/`double precision`/`money`); no column anywhere is "
        "floating point.",
        _numeric_money,
    ),
    (
        "`created_at` / `updated_at`",
        "Tables carry `created_at` and `updated_at`.",
        _timestamps,
    ),
    (
        "Least-privilege roles",
        f"Every table and view is owned by `{OWNER_ROLE}` (NOLOGIN, not superuser, NOBYPASSRLS); "
        "nothing is granted to PUBLIC; no platform role holds TRUNCATE, TRIGGER or REFERENCES; "
        "runtime roles log in, own nothing and get only their schema's grants.",
        _least_privilege,
    ),
    (
        "Views run as the invoker",
        "Every view has `security_invoker = true`, so row-level security applies to the "
        "reader, not to the view's owner.",
        _security_invoker,
    ),
)


def check_conventions(catalog: Catalog) -> list[ConventionResult]:
    results = []
    for title, statement, check in CONVENTIONS:
        applies_to, exceptions = check(catalog)
        results.append(
            ConventionResult(
                title=title,
                statement=statement,
                applies_to=applies_to,
                exceptions=tuple(sorted(exceptions)),
            )
        )
    return results
