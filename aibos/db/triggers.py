"""Guard triggers: django-pgtrigger declarations without pgtrigger's ignore hook.

Every trigger pgtrigger generates starts with ``IF _pgtrigger_should_ignore(TG_NAME) THEN
RETURN NEW``, and that function reads ``current_setting('pgtrigger.ignore')``, which any SQL
session may set. For a guard-rail that is fine; for "a posted entry never changes" it is a hole.

:class:`GuardTrigger` keeps everything pgtrigger gives us (declared on the model ``Meta``,
written into migrations by ``makemigrations``, listed by ``manage.py pgtrigger ls``) but installs
the function from :class:`GuardTriggerSql`, a template with no ignore hook, created in the
table's own schema (owned, like the table, by the owner role), optionally SECURITY DEFINER with a
pinned ``search_path``. The runtime roles own nothing, so they cannot replace the function,
disable the trigger (``ALTER TABLE`` needs ownership) or skip it (``session_replication_role``
needs superuser). ``tests/security/test_ledger_bypass.py`` tries all of it as the finance role.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import pgtrigger
from django.db import models
from pgtrigger import compiler, utils

# pgtrigger's own trigger names are `pgtrigger_<name>_<hash>`; ours say what they are.
PREFIX = "guard"


class Rendered(pgtrigger.Func):
    """A trigger body that ``build()`` writes when pgtrigger compiles the trigger.

    pgtrigger compiles only once every app is loaded (``makemigrations``, ``migrate``'s change
    check, ``pgtrigger ls``, installation), so the body may read other models' ``_meta.db_table``,
    their enums and their state machines: the model modules declaring the trigger import the
    module that holds the bodies, which therefore cannot import them back when it is loaded.
    Nothing is rendered at import time, and the SQL a migration freezes is the rendered text.
    """

    def __init__(self, build: Callable[[], str]) -> None:
        super().__init__(build.__qualname__)
        self.build = build

    def render(self, **kwargs: Any) -> str:
        return self.build()


def table(model: type[models.Model]) -> str:
    """The model's table as SQL (``"finance"."payments"``), from its ``Meta.db_table``."""
    return utils.quote(model._meta.db_table)


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_values(values: Iterable[str | tuple[str, ...]]) -> str:
    """``('A', 'B')`` for ``IN``, or ``(('A', 'B'), ('B', 'C'))`` for a row ``IN``."""
    items = [
        f"({', '.join(sql_literal(v) for v in value)})"
        if isinstance(value, tuple)
        else sql_literal(value)
        for value in values
    ]
    if not items:
        raise ValueError("an empty IN list is not valid SQL")
    return f"({', '.join(items)})"


class GuardTriggerSql(compiler.UpsertTriggerSql):
    """pgtrigger's installation template minus the ignore hook (versioned like pgtrigger's:
    migrations reference this class, so edit it only in a backward-compatible way)."""

    def get_template(self) -> str:
        return """
            CREATE OR REPLACE FUNCTION {schema}.{pgid}()
            RETURNS TRIGGER LANGUAGE plpgsql {security} AS $$
                {declare}
                BEGIN
                    {func}
                END;
            $$;
            REVOKE ALL ON FUNCTION {schema}.{pgid}() FROM PUBLIC;

            DROP TRIGGER IF EXISTS {pgid} ON {table};
            CREATE {constraint} TRIGGER {pgid}
                {when} {operation} ON {table}
                {timing}
                {referencing}
                FOR EACH {level} {condition}
                EXECUTE FUNCTION {schema}.{execute};

            COMMENT ON TRIGGER {pgid} ON {table} IS '{hash}';
        """

    def get_defaults(self, pgid: str) -> dict[str, str]:
        return {**super().get_defaults(pgid), "schema": "public", "security": ""}

    def __init__(
        self, *, schema: str = "public", security: str = "", hash: str | None = None, **kwargs: Any
    ) -> None:
        # The parent takes a fixed set of keywords (it collects them from locals()); render once
        # through it, then again with ours so they are in the SQL, the hash and deconstruct().
        super().__init__(hash=hash, **kwargs)
        self.kwargs.update(schema=schema, security=security)
        sql_args = {**self.defaults, **self.kwargs, "table": utils.quote(self.table)}
        self.hash = (
            hash
            # pgtrigger's own change-detection fingerprint (not a security control).
            or hashlib.sha1(  # noqa: S324
                self.get_template().format(**sql_args, hash="").encode()
            ).hexdigest()
        )
        self.data = self.get_template().format(**sql_args, hash=self.hash)


class GuardTrigger(pgtrigger.Trigger):
    """A pgtrigger ``Trigger`` whose function has no ignore hook.

    ``security_definer``: run as the function's owner, for triggers that maintain rows the
    runtime role may only read (balances, posting counters). The owner is bound by FORCE RLS
    like everyone else, so the function still sees only the active tenant's rows.
    """

    security_definer: bool = False

    def __init__(self, *, security_definer: bool | None = None, **kwargs: Any) -> None:
        if security_definer is not None:
            self.security_definer = security_definer
        super().__init__(**kwargs)

    def get_pgid(self, model: models.Model) -> str:
        # `<prefix>_<name>`: the trigger's name in Meta is already `<app>_<model>_<rule>`.
        pgid = f"{PREFIX}_{self.name}"
        if len(pgid) > 63:
            raise ValueError(f"Trigger name {pgid!r} is longer than Postgres allows (63).")
        return pgid

    def compile(self, model: models.Model) -> compiler.Trigger:
        schema = model._meta.db_table.split('"."')[0] if '"."' in model._meta.db_table else "public"
        security = (
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
            if self.security_definer
            else "SET search_path = pg_catalog, pg_temp"
        )
        return compiler.Trigger(
            name=self.name,
            sql=GuardTriggerSql(
                schema=utils.quote(schema),
                security=security,
                pgid=self.get_pgid(model),
                declare=self.render_declare(model),
                func=self.render_func(model),
                table=model._meta.db_table,
                constraint="CONSTRAINT" if self.timing else "",
                when=self.when,
                operation=self.operation,
                timing=f"DEFERRABLE INITIALLY {self.timing}" if self.timing else "",
                referencing=self.referencing or "",
                level=self.level,
                condition=self.render_condition(model),
                execute=f"{self.get_pgid(model)}()",
            ),
        )
