"""Raw SQL as the finance runtime role, and what the database said when it refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connections

from aibos.actors import Actor
from aibos.errors import DatabaseRefusal
from aibos.tenancy import tenant_context


def run(tenant_id: uuid.UUID, *statements: str | tuple[str, list[Any]]) -> list[Any]:
    """Run statements in one transaction on the finance alias (aibos_finance_role); returns
    the last statement's rows, if any."""
    rows: list[Any] = []
    with tenant_context(Actor.for_command(tenant_id, "sql-test"), using=["finance"]):
        with connections["finance"].cursor() as cur:
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, [])
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
    return rows


def refused(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[str, str]:
    """(SQLSTATE, constraint/rule name) of a database refusal."""
    refusal = DatabaseRefusal.of(excinfo.value)
    return refusal.sqlstate, refusal.rule


def message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return DatabaseRefusal.of(excinfo.value).message
