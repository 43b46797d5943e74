"""Design hints, recorded in shadow: duplicate entities and first-normal-form smells.

(The third-normal-form hint needs data: a column that determines another is sampled from the
live database by :mod:`guardian.sources.live`.)"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..findings import SHADOW, Finding
from ..sql import base_type
from ..state import Table
from . import SCHEMA_CHECKS, TABLE_CHECKS, Context, finding, rule, table_location

DUPLICATE = rule("duplicate-entity", SHADOW, "design", "two tables whose columns nearly coincide")
REPEATING = rule(
    "repeating-group",
    SHADOW,
    "design",
    "numbered columns (phone1, phone2…): a repeating group (1NF)",
)
ID_LIST = rule(
    "id-list-column",
    SHADOW,
    "design",
    "a column holding a list of ids (array or delimited text) instead of a child table (1NF)",
)
DEPENDENCY = rule(
    "transitive-dependency",
    SHADOW,
    "design",
    "a non-key column determines another on sampled data: a candidate for its own table (3NF)",
)

STANDARD = {"id", "tenant_id", "created_at", "updated_at", "deleted_at", "version"}
_NUMBERED = re.compile(r"^(?P<base>[a-z_]*[a-z])_?(?P<n>\d+)$")


def check_duplicates(ctx: Context, tables: list[Table]) -> Iterable[Finding]:
    th = ctx.config.thresholds
    every = sorted(ctx.state.tables.values(), key=lambda t: t.key)
    touched = {t.key for t in tables}
    cols = {t.key: set(t.columns) - STANDARD for t in every}
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            if a.key not in touched and b.key not in touched:
                continue
            ca, cb = cols[a.key], cols[b.key]
            if min(len(ca), len(cb)) < th.duplicate_min_columns:
                continue
            share = len(ca & cb) / len(ca | cb)
            if share >= th.duplicate_similarity:
                newer = b if b.key in touched else a
                other = a if newer is b else b
                yield finding(
                    DUPLICATE,
                    f"{newer.key} and {other.key} share {share:.0%} of their columns: one entity "
                    "kept twice drifts apart.",
                    f"{newer.key}~{other.key}",
                    table_location(newer),
                )


def check_first_normal_form(ctx: Context, t: Table) -> Iterable[Finding]:
    groups: dict[str, list[str]] = {}
    for c in t.columns:
        m = _NUMBERED.match(c)
        if m:
            groups.setdefault(m.group("base"), []).append(c)
    for base, members in sorted(groups.items()):
        if len(members) >= 2:
            yield finding(
                REPEATING,
                f"{t.key} has {', '.join(sorted(members))}: a repeating group; give {base} a "
                "child table with one row per value.",
                f"{t.key}.{base}*",
                table_location(t),
            )
    for col in t.columns.values():
        kind = base_type(col.type)
        plural = col.name.endswith(("_ids", "_list"))
        array_of_ids = col.type.endswith("[]") and kind in {"uuid", "integer", "bigint"}
        text_list = plural and kind in {"text", "character varying"}
        if array_of_ids or text_list:
            yield finding(
                ID_LIST,
                f"{t.key}.{col.name} ({col.type}) holds a list of ids: no foreign key can check "
                "them and no index finds the rows pointing at one.",
                f"{t.key}.{col.name}",
                table_location(t),
            )


SCHEMA_CHECKS.append(check_duplicates)
TABLE_CHECKS.append(check_first_normal_form)
