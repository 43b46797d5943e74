"""What runs on a distributed table: triggers, SECURITY DEFINER functions and the RLS
predicate's setting, and what each needs under Citus."""

from __future__ import annotations

import re

from guardian.catalog.types import Catalog, Function
from guardian.citus.model import RUNTIME_ROLES, Finding, Placement, _q


def _touches(
    source: str, catalog: Catalog, own: str | None, _seen: frozenset[str] = frozenset()
) -> list[str]:
    """Tables named in a function body, following the catalog's functions it calls."""
    found: set[str] = set()
    for t in catalog.tables:
        if t.qualified_name != own and _names(source, t.schema, t.name):
            found.add(t.qualified_name)
    for fn in catalog.functions:
        name = fn.qualified_name
        if name not in _seen and _names(source, fn.schema, fn.name):
            found |= set(_touches(fn.source, catalog, own, _seen | {name}))
    return sorted(found)


def _names(source: str, schema: str, name: str) -> bool:
    pattern = rf'(?<![\w."]){re.escape(schema)}\s*\.\s*"?{re.escape(name)}\b'
    return re.search(pattern, source) is not None


def _trigger_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    out: list[Finding] = []
    functions = {f.qualified_name: f for f in catalog.functions}
    # Distributed tables: one finding per trigger function (the same function on 30 tables is
    # one decision), listing where it fires and what it touches.
    on_distributed: dict[str, list[str]] = {}
    touched_by: dict[str, set[str]] = {}
    for t in catalog.tables:
        how = placements[t.qualified_name].how
        for trig in t.triggers:
            fn = functions.get(trig.function)
            if how == "reference":
                out.append(
                    Finding(
                        "trigger",
                        t.qualified_name,
                        trig.name,
                        f"{trig.name} ({trig.function}) on a reference table: Citus does not "
                        "support triggers on reference tables (citus#4425)",
                        f'DROP TRIGGER "{trig.name}" ON {_q(t.qualified_name)}; '
                        "-- enforce the rule with privileges (REVOKE) or in the writing service",
                    )
                )
            elif how == "distributed" and fn is not None:
                touched = _touches(fn.source, catalog, t.qualified_name)
                if touched:
                    on_distributed.setdefault(trig.function, []).append(t.qualified_name)
                    touched_by.setdefault(trig.function, set()).update(touched)
    for function, tables in sorted(on_distributed.items()):
        touched = sorted(touched_by[function])
        off_group = [
            x for x in touched if placements.get(x) is None or placements[x].how != "distributed"
        ]
        out.append(
            Finding(
                "trigger",
                function,
                function.rpartition(".")[2],
                f"trigger function {function} fires on {len(tables)} distributed table(s) "
                f"({', '.join(sorted(tables)[:3])}{', ...' if len(tables) > 3 else ''}) and "
                f"touches {', '.join(touched)}: on Citus it runs on the worker holding the "
                "shard, needs citus.enable_unsafe_triggers, and is correct only if every touched "
                "table is co-located and reached through the row's tenant_id"
                + (f"; not distributed: {', '.join(off_group)}" if off_group else ""),
                "ALTER DATABASE CURRENT SET citus.enable_unsafe_triggers = on; "
                "-- only after checking the function reads and writes the row's tenant only",
            )
        )
    return out


def _function_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    out: list[Finding] = []
    for fn in catalog.functions:
        if not fn.security_definer:
            continue
        touched = _touches(fn.source, catalog, None)
        if not touched:
            continue
        out.append(
            Finding(
                "security-definer",
                fn.signature,
                fn.name,
                f"SECURITY DEFINER, touches {', '.join(touched)}: runs on the coordinator, so each "
                "access is a distributed query, unless delegated to the worker of one tenant",
                _delegate_fix(fn),
            )
        )
    return out


def _delegate_fix(fn: Function) -> str:
    args = [a.strip().split()[0] for a in fn.identity_arguments.split(",") if a.strip()]
    tenant_arg = next((a for a in args if "tenant" in a), None)
    if tenant_arg is not None:
        return (
            f"SELECT create_distributed_function('{fn.signature}', '{tenant_arg}', "
            "colocate_with := 'kernel.audit_events');"
        )
    return f"-- {fn.signature} has no tenant argument: it stays on the coordinator (not delegated)"


def _rls_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    uses_guc = sorted(
        t.qualified_name
        for t in catalog.tables
        if placements.get(t.qualified_name, Placement("", "local", "")).how == "distributed"
        and any("current_setting" in (p.using or "") + (p.with_check or "") for p in t.policies)
    )
    if not uses_guc:
        return []
    roles = "; ".join(
        f"ALTER ROLE {r} SET citus.propagate_set_commands = 'local'" for r in RUNTIME_ROLES
    )
    return [
        Finding(
            "rls",
            "*",
            "tenant-guc",
            f"{len(uses_guc)} distributed tables have policies reading current_setting(): the "
            "workers see the tenant variable only if it is set with SET LOCAL inside the "
            "transaction and citus.propagate_set_commands = 'local' (citus PR #2906); "
            "set_config(..., true), which aibos/tenancy.py uses, is not propagated",
            f"{roles}; -- and set the tenant with SET LOCAL app.tenant_id = '...' (not set_config)",
        )
    ]
