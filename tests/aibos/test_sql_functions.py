"""The functions deployed in the governed schemas are exactly the functions the code declares.

Migrations deploy frozen copies of the SQL (they never import it), so the code can drift from
what a database runs. Here PostgreSQL renders both sides: the catalog as migrated, and the code's
declarations (``aibos.db.functions``) executed in a transaction that is rolled back. An edit to a
function in code without a migration deploying it fails, and so does a deployed function no code
declares. Guard trigger functions are pgtrigger's to compare (hash per trigger):
``tests/security/test_ledger_bypass.py::test_every_declared_guard_is_installed_current_and_enabled``.
"""

from __future__ import annotations

import difflib
from typing import Any

import pgtrigger.registry
import pytest
from django.db import DatabaseError, connections, transaction

from aibos.db.functions import declared_names, declared_sql
from aibos.db.triggers import GuardTrigger
from tests.security.helpers import GOVERNED_SCHEMAS

pytestmark = pytest.mark.django_db(databases="__all__")

# One row per function: its name, pg_get_functiondef (the whole CREATE statement, header
# normalized by PostgreSQL, body verbatim) and who may execute it.
FUNCTIONS = """
SELECT format('%%s.%%s', n.nspname, p.proname), p.oid::regprocedure::text,
       pg_get_functiondef(p.oid), COALESCE(p.proacl::text, 'default'), p.prorettype = 'trigger'::regtype
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%s)
"""


def _catalog(cur: Any) -> dict[str, dict[str, tuple[str, str]]]:
    """name -> {signature: (definition, acl)}; every overload of a name counts."""
    cur.execute(FUNCTIONS, [list(GOVERNED_SCHEMAS)])
    functions: dict[str, dict[str, tuple[str, str]]] = {}
    for name, signature, definition, acl, _ in cur.fetchall():
        functions.setdefault(name, {})[signature] = (definition.strip(), acl)
    return functions


def _guard_functions() -> set[str]:
    """The trigger functions pgtrigger installs for the GuardTriggers on the models' Meta."""
    return {
        f"{_schema(model._meta.db_table)}.{trigger.get_pgid(model)}"
        for model, trigger in pgtrigger.registry.registered()
        if isinstance(trigger, GuardTrigger)
    }


def _schema(db_table: str) -> str:
    return db_table.split('"."')[0] if '"."' in db_table else "public"


def _as_declared() -> tuple[dict[str, dict[str, tuple[str, str]]], dict[str, str]]:
    """The catalog after running every declaration (rolled back), and which declaration
    names each function."""
    origin: dict[str, str] = {}
    with transaction.atomic(using="default"), connections["default"].cursor() as cur:
        for path, sql in declared_sql().items():
            for name in declared_names(sql):
                assert name not in origin, f"{name} is declared twice: {origin[name]}, {path}"
                origin[name] = path
            try:
                with transaction.atomic(using="default"):
                    cur.execute(sql)
            except DatabaseError as exc:  # e.g. another return type: only a migration can do it
                pytest.fail(f"{path} cannot replace the deployed function: {exc}")
        declared = _catalog(cur)
        transaction.set_rollback(True, using="default")
    return declared, origin


def test_every_deployed_function_is_what_the_code_declares() -> None:
    with connections["default"].cursor() as cur:
        deployed = _catalog(cur)
    declared, origin = _as_declared()
    assert len(origin) >= 8, origin

    differences = []
    for name, path in sorted(origin.items()):
        if name not in deployed:
            differences.append(f"{name} ({path}) is declared but no migration deploys it")
            continue
        for signature, (definition, acl) in sorted(declared[name].items()):
            if signature not in deployed[name]:
                differences.append(f"{signature} ({path}) is declared but not deployed")
                continue
            deployed_definition, deployed_acl = deployed[name][signature]
            if definition != deployed_definition:
                diff = "\n".join(
                    difflib.unified_diff(
                        deployed_definition.splitlines(),
                        definition.splitlines(),
                        "deployed (migrations)",
                        f"declared ({path})",
                        lineterm="",
                    )
                )
                differences.append(f"{signature} differs from {path}:\n{diff}")
            if acl != deployed_acl:
                differences.append(
                    f"{signature}: deployed grants {deployed_acl}, {path} declares {acl}"
                )
    assert not differences, (
        "The code declares functions the migrations do not deploy; write a migration with a "
        "frozen copy of the new SQL.\n\n" + "\n\n".join(differences)
    )


def test_no_function_in_a_governed_schema_is_undeclared() -> None:
    with connections["default"].cursor() as cur:
        deployed = _catalog(cur)
    declared = {name for sql in declared_sql().values() for name in declared_names(sql)}
    guards = _guard_functions()
    assert guards, "no GuardTrigger is registered"
    assert not guards - deployed.keys(), guards - deployed.keys()
    assert sorted(deployed.keys() - declared - guards) == []


def test_a_function_edited_in_code_without_a_migration_fails_the_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mutation the comparison exists for: a body changed in code only."""
    from aibos.db import bootstrap

    edited = bootstrap.FUNCTIONS_SQL.replace(
        "NEW.version := OLD.version + 1;", "NEW.version := OLD.version + 2;"
    )
    assert edited != bootstrap.FUNCTIONS_SQL
    monkeypatch.setattr(bootstrap, "FUNCTIONS_SQL", edited)
    with pytest.raises(AssertionError, match=r"kernel\.bump_version\(\) differs from"):
        test_every_deployed_function_is_what_the_code_declares()
