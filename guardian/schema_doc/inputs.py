"""What the schema document is made of: the catalog plus a few live facts it does not hold.

Everything here is chosen to be the same on every freshly migrated database: no OIDs, sizes,
timestamps or activity counters. The row-count class is read from an exact, capped count
(not ``reltuples``, which is -1 until the first ANALYZE and then moves with autovacuum).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from guardian.catalog import Catalog, Table

# Counting stops here: the class only needs to know "at least this many".
ROW_COUNT_CAP = 100_000
NO_SELECT = -1  # the generating role may not read the table


class FindingLike(Protocol):
    """What the renderer needs of a guardian finding (guardian.live produces them)."""

    @property
    def rule(self) -> str: ...

    @property
    def level(self) -> str: ...

    @property
    def message(self) -> str: ...


Findings = Mapping[str, Sequence[FindingLike]]  # "schema.table" -> findings


@dataclass(frozen=True)
class AppliedMigrations:
    app: str
    count: int
    latest: str


@dataclass(frozen=True)
class DocInputs:
    catalog: Catalog
    # "schema.table" -> exact row count capped at ROW_COUNT_CAP, NO_SELECT when unreadable.
    row_counts: Mapping[str, int] = field(default_factory=dict)
    findings: Findings = field(default_factory=dict)
    migrations: Sequence[AppliedMigrations] = ()
    # "schema.table" -> the first paragraph of its Django model's docstring.
    purposes: Mapping[str, str] = field(default_factory=dict)
    counted_as: str = ""  # the role whose view of the rows the counts are


def row_count_class(count: int | None) -> str:
    if count is None:
        return "not counted"
    if count == NO_SELECT:
        return "not readable"
    if count == 0:
        return "empty"
    if count < 1_000:
        return "< 1k"
    if count < ROW_COUNT_CAP:
        return "1k–100k"  # noqa: RUF001  # the issue's spelling
    return "≥ 100k"


# Which tables the role may read, in one statement; then one UNION ALL of capped counts over
# those, so a schema of 1,000 tables is two round trips. (Not query_to_xml: PostgreSQL built
# without libxml, as the embedded server is, refuses it.)
_READABLE = """
SELECT n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p')
"""


def read_row_counts(
    connection: BaseDatabaseWrapper, tables: Sequence[Table]
) -> tuple[dict[str, int], str]:
    """Exact counts capped at ROW_COUNT_CAP, and the role that counted (RLS applies to it:
    a superuser counts every row, the owner under FORCE ROW LEVEL SECURITY only its tenant's)."""
    schemas = sorted({t.schema for t in tables})
    with connection.cursor() as cursor:
        cursor.execute(_READABLE, {"schemas": schemas})
        rows = cursor.fetchall()
        counts = {f"{schema}.{name}": NO_SELECT for schema, name, readable in rows if not readable}
        readable = sorted((schema, name) for schema, name, ok in rows if ok)
        if readable:
            branches = [
                sql.SQL(
                    "SELECT {}, {}, (SELECT count(*) FROM (SELECT FROM {}.{} LIMIT {}) s)"
                ).format(
                    sql.Literal(schema),
                    sql.Literal(name),
                    sql.Identifier(schema),
                    sql.Identifier(name),
                    sql.Literal(ROW_COUNT_CAP),
                )
                for schema, name in readable
            ]
            cursor.execute(sql.SQL(" UNION ALL ").join(branches).as_string(cursor.connection))
            counts.update({f"{schema}.{name}": int(n) for schema, name, n in cursor.fetchall()})
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
    return counts, str(role)


def read_migrations(connection: BaseDatabaseWrapper) -> list[AppliedMigrations]:
    """Applied migrations per app, from django_migrations (names, not the applied dates)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT app, count(*), max(name) FROM django_migrations GROUP BY app ORDER BY app"
        )
        rows: list[Any] = cursor.fetchall()
    return [AppliedMigrations(app=a, count=n, latest=latest) for a, n, latest in rows]


def model_purposes() -> dict[str, str]:
    """``schema.table`` -> the first paragraph of the model docstring, where one was written
    (Django fills in ``Model(field, ...)`` when none was: that is skipped)."""
    purposes: dict[str, str] = {}
    for model in apps.get_models():
        table = model._meta.db_table
        doc = (model.__doc__ or "").strip()
        if '"."' not in table or not doc or doc.startswith(f"{model.__name__}("):
            continue
        purposes[table.replace('"."', ".")] = " ".join(doc.split("\n\n")[0].split())
    return purposes
