"""Design hints, recorded in shadow: duplicate entities and first-normal-form smells.

(The third-normal-form hint needs data: a column that determines another is sampled from the
live database by :mod:`guardian.sources.live`.)"""

from __future__ import annotations

import math
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
    """Each touched table against the others; one finding per table (its closest match).

    A set-similarity join with prefix filtering: two column sets with Jaccard similarity >= t
    must share one of the ``len - ceil(t * len) + 1`` rarest columns of either, so only those
    are indexed and the cost follows real overlaps, not the square of the table count."""
    th = ctx.config.thresholds
    t_min = th.duplicate_similarity
    cols = {
        key: frozenset(t.columns) - STANDARD
        for key, t in ctx.state.tables.items()
        if len(set(t.columns) - STANDARD) >= th.duplicate_min_columns
    }
    frequency: dict[str, int] = {}
    for cs in cols.values():
        for c in cs:
            frequency[c] = frequency.get(c, 0) + 1

    def prefix(cs: frozenset[str]) -> list[str]:
        ordered = sorted(cs, key=lambda c: (frequency[c], c))
        return ordered[: len(cs) - math.ceil(t_min * len(cs)) + 1]

    holders: dict[str, list[str]] = {}
    for key, cs in cols.items():
        for c in prefix(cs):
            holders.setdefault(c, []).append(key)
    for t in sorted(tables, key=lambda t: t.key):
        mine = cols.get(t.key)
        if mine is None:
            continue
        candidates = {o for c in prefix(mine) for o in holders.get(c, ()) if o != t.key}
        best, best_share = "", 0.0
        for other in sorted(candidates):
            share = len(mine & cols[other]) / len(mine | cols[other])
            if share > best_share:
                best, best_share = other, share
        if best and best_share >= t_min:
            yield finding(
                DUPLICATE,
                f"{t.key} and {best} share {best_share:.0%} of their columns: one entity kept "
                "twice drifts apart.",
                "~".join(sorted((t.key, best))),
                table_location(t),
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
