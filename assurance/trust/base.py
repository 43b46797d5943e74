"""What an attack is, what it expects, what it got, and the helpers the attacks share.

An attack makes one attempt as a runtime role (raw SQL on ``connections["kernel"|"finance"|
"config"]`` inside :func:`aibos.tenancy.tenant_context`, the ORM, or the HTTP API through
Django's test client) and returns what it got: a SQLSTATE (and the rule the database named),
an HTTP status, or the rows a statement saw or touched. The runner compares that with what the
attack expects, then runs the attack's ``unchanged`` probe — still inside the attack's
transaction, so it sees whatever the attempt did — as the owning tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connections, transaction

from aibos.actors import Actor
from aibos.errors import DatabaseRefusal
from aibos.tenancy import tenant_context

from .dataset import Dataset

# Layers: what stopped the attack.
RLS = "RLS"
PRIVILEGE = "privilege"
GUARD = "guard trigger"
CONSTRAINT = "constraint"
API = "API"
ORM = "ORM"
LAYERS = (RLS, PRIVILEGE, GUARD, CONSTRAINT, API, ORM)

# SOC 2 Trust Services Criteria (2017, revised points of focus 2022) the attacks evidence.
TSC = {
    "CC6.1": "logical access security: access restricted to authorised users and data",
    "CC6.2": "access credentials: registration, authorisation and removal of users",
    "CC6.3": "role-based access, least privilege and segregation of duties",
    "CC6.6": "protection against threats from outside the system boundary",
    "CC7.2": "monitoring of system components for anomalies (security events)",
    "CC8.1": "changes to data and infrastructure are authorised and controlled",
    "PI1.2": "processing inputs are complete and accurate",
    "PI1.3": "processing is complete, accurate and authorised",
    "PI1.4": "outputs are complete, accurate and distributed only to intended parties",
    "PI1.5": "stored data is complete, accurate and protected",
    "A1.2": "recovery infrastructure and data protection (no destructive bulk deletion)",
}


@dataclass(frozen=True)
class Expect:
    """The blocked outcome. Exactly one of ``sqlstate``, ``http``, ``rows`` or ``error``."""

    sqlstate: str | None = None
    rule: str | None = None  # the constraint or guard rule the refusal must name, if any
    http: int | None = None
    rows: int | None = None  # RLS: the rows the statement saw or touched (0)
    error: str | None = None  # an application refusal before SQL: the exception class name

    def __str__(self) -> str:
        if self.sqlstate:
            return f"SQLSTATE {self.sqlstate}" + (f" {self.rule}" if self.rule else "")
        if self.http is not None:
            return f"HTTP {self.http}" + (f", {self.rows} rows" if self.rows is not None else "")
        if self.rows is not None:
            return f"{self.rows} rows"
        return f"raises {self.error}"


@dataclass
class Got:
    """What the attempt produced."""

    sqlstate: str = ""
    rule: str = ""
    message: str = ""
    http: int | None = None
    rows: int | None = None
    error: str = ""  # a Python exception that is no database error (class name)

    @property
    def refused(self) -> bool:
        """Something said no (an error, a 4xx/5xx), as opposed to answering rows."""
        return bool(self.sqlstate or self.error) or (self.http is not None and self.http >= 400)

    def __str__(self) -> str:
        if self.sqlstate:
            return f"SQLSTATE {self.sqlstate}" + (f" {self.rule}" if self.rule else "")
        if self.error:
            return f"raises {self.error}"
        if self.http is not None:
            return f"HTTP {self.http}" + (f", {self.rows} rows" if self.rows is not None else "")
        return f"{self.rows} rows"

    @classmethod
    def of(cls, exc: BaseException) -> Got:
        if isinstance(exc, DatabaseError):
            refusal = DatabaseRefusal.of(exc)
            return cls(sqlstate=refusal.sqlstate, rule=refusal.rule, message=refusal.message)
        return cls(error=type(exc).__name__, message=str(exc))

    def matches(self, expect: Expect) -> bool:
        if expect.sqlstate:
            return self.sqlstate == expect.sqlstate and (
                expect.rule is None or self.rule == expect.rule
            )
        if expect.http is not None:
            return self.http == expect.http and (expect.rows is None or self.rows == expect.rows)
        if expect.rows is not None:
            return not self.refused and self.rows == expect.rows
        return self.error == expect.error


# A 42501 says "insufficient privilege" whoever raised it: a missing grant, an RLS policy or a
# trigger (the append-only trigger raises 42501 too). Where an attack names no rule, the
# message tells which layer refused, so a protection replaced by another is not a PASS.
LAYER_MESSAGES = {
    PRIVILEGE: ("permission denied", "must be owner", "must be superuser"),
    RLS: ("new row violates row-level security", "query would be affected by row-level security"),
}


def refused_by_layer(layer: str, expect: Expect, got: Got) -> bool:
    if got.sqlstate != "42501" or expect.rule:
        return True
    prefixes = LAYER_MESSAGES.get(layer)
    return prefixes is None or got.message.startswith(prefixes)


Probe = Callable[[Dataset], str | None]  # a problem, or None when nothing changed


@dataclass(frozen=True)
class Attack:
    name: str  # "<area>.<what>", unique
    title: str  # what the attacker tries, in words
    layer: str  # what must stop it
    tsc: tuple[str, ...]
    expect: Expect
    attempt: Callable[[Dataset], Got]
    # Run after the attempt, in the same transaction: proves nothing changed (and, for RLS,
    # that the row the attacker could not see exists for its owner).
    unchanged: Probe | None = None
    role: str = "aibos_finance_role"  # the role the attempt runs as (for the report)

    def __post_init__(self) -> None:
        assert self.layer in LAYERS, self.layer
        assert self.tsc and all(t in TSC for t in self.tsc), self.tsc


@dataclass
class Registry:
    attacks: list[Attack] = field(default_factory=list)

    def add(self, **kwargs: Any) -> None:
        self.attacks.append(Attack(**kwargs))


# --- running SQL as a runtime role ----------------------------------------------------------

Statement = str | tuple[str, Sequence[Any]]


def attacker(tenant_id: Any) -> Actor:
    return Actor.for_command(tenant_id, "trust_test")


def sql(alias: str, tenant_id: Any, *statements: Statement) -> Got:
    """Statements in one unit of work on ``alias`` (nested: a savepoint of the attack's
    transaction) in ``tenant_id``'s context, or none at all when ``tenant_id`` is None. A
    refusal rolls the unit back and is returned; otherwise the last statement's row count
    (rows returned by a SELECT, rows touched by a write)."""
    try:
        if tenant_id is None:
            with transaction.atomic(using=alias):
                return _execute(alias, statements)
        with tenant_context(attacker(tenant_id), using=[alias]):
            return _execute(alias, statements)
    except DatabaseError as exc:
        return Got.of(exc)


def _execute(alias: str, statements: Sequence[Statement]) -> Got:
    rows = 0
    with connections[alias].cursor() as cur:
        for statement in statements:
            text, params = statement if isinstance(statement, tuple) else (statement, None)
            cur.execute(text, params)
            rows = len(cur.fetchall()) if cur.description else cur.rowcount
    return Got(rows=rows)


def peek(alias: str, tenant_id: Any, query: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of ``query`` as ``tenant_id`` sees them, in the attack's transaction (the probes)."""
    with (
        tenant_context(uuid.UUID(str(tenant_id)), using=[alias]),
        connections[alias].cursor() as cur,
    ):
        cur.execute(query, params)
        return list(cur.fetchall())


def expect_rows(
    alias: str, tenant_id: Any, query: str, params: Sequence[Any], expected: list[Any]
) -> str | None:
    got = peek(alias, tenant_id, query, params)
    return None if got == expected else f"{query} -> {got!r}, expected {expected!r}"
