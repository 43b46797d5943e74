"""The tenant context: who is acting, for which tenant, in which unit of work.

``tenant_context()`` is the only way to set the tenant. It owns the transaction it sets the
variables in: for every alias it opens ``transaction.atomic(using=alias)`` and runs
``set_config(..., true)`` (transaction-local, so nothing survives COMMIT/ROLLBACK and a pooled
server connection never carries one client's tenant to the next). When the context is nested in
an outer transaction (a test, a management command's own atomic), the previous values are put
back on exit, so the tenant never outlives the block that set it.

The context carries the :class:`~aibos.actors.Actor` it was opened for: ``app.tenant_id`` is
its tenant, ``app.user_id`` its user (if it is one) and ``app.actor`` its label.

The ORM layer reads the same context (``current_tenant_id()``) to scope querysets; the
database enforces it with RLS either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import DatabaseError, connections, transaction
from psycopg import sql as pgsql

from aibos.actors import Actor
from aibos.db.roles import RUNTIME_ALIASES

NO_TENANT_CONTEXT = (
    "No tenant context is active: wrap the work in aibos.tenancy.tenant_context(tenant_id=...). "
    "Nothing falls back to 'all tenants'."
)
NESTED_OTHER_TENANT = "A tenant context for {active} is active; refusing to switch to {requested}."
UNKNOWN_ALIAS = "Tenant context aliases must be tenant-scoped aliases {known}, got {alias!r}."
# The runtime aliases, and the read-only one that sees one tenant's rows (evidence export).
TENANT_ALIASES = (*RUNTIME_ALIASES, "readonly")

GUC_TENANT = "app.tenant_id"
GUC_USER = "app.user_id"
GUC_ACTOR = "app.actor"
GUC_CORRELATION = "app.correlation_id"
_GUCS = (GUC_TENANT, GUC_USER, GUC_ACTOR, GUC_CORRELATION)


class TenantContextMissing(RuntimeError):
    """Raised when tenant-scoped data is touched outside a tenant context."""


class TenantSwitchRefused(RuntimeError):
    """Raised when a tenant context is opened for another tenant inside an active one: a unit of
    work acts for one tenant. Not a missing context (the caller is authenticated): the API
    answers 403."""


@dataclass(frozen=True)
class TenantContext:
    tenant_id: uuid.UUID
    actor: Actor | None  # None: a tenant-only unit of work (a lookup before anyone is known)
    correlation_id: str
    # The aliases whose transaction carries these values.
    aliases: frozenset[str] = frozenset()

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.actor.user_id if self.actor else None

    @property
    def actor_label(self) -> str:
        return self.actor.label if self.actor else ""


_current: ContextVar[TenantContext | None] = ContextVar("aibos_tenant_context", default=None)


def current_context() -> TenantContext | None:
    return _current.get()


def require_context() -> TenantContext:
    ctx = _current.get()
    if ctx is None:
        raise TenantContextMissing(NO_TENANT_CONTEXT)
    return ctx


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    # Validated here so that nothing attacker-shaped ever reaches the ::uuid cast in a policy.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


_SET_SQL = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in _GUCS)
_READ_SQL = "SELECT " + ", ".join(f"current_setting('{g}', true)" for g in _GUCS)


def _apply(cursor: Any, values: dict[str, str], *, keep_previous: bool) -> dict[str, str]:
    """Set the variables transaction-locally (one statement); with `keep_previous`, first read
    what they were (one more statement) and return it."""
    previous: dict[str, str] = {}
    if keep_previous:
        cursor.execute(_READ_SQL)
        row = cursor.fetchone()
        previous = {g: row[i] or "" for i, g in enumerate(_GUCS)}
    cursor.execute(_SET_SQL, [arg for g in _GUCS for arg in (g, values[g])])
    return previous


def _combined(cursor: Any, values: dict[str, str], sql: str, params: Any) -> str | None:
    """``sql`` prefixed with the ``set_config`` statement, for one round trip; None when the
    cursor cannot run two statements in one call.

    Only a client-side binding cursor (Django's default with psycopg 3) sends its query through
    the simple protocol, where two statements may share one message and one implicit
    transaction block; a server-side binding or named cursor keeps the separate statement. The
    values are quoted by psycopg, never formatted into SQL by hand.
    """
    if not isinstance(sql, str) or not _client_side(cursor):
        return None
    conn = cursor.cursor.connection
    prefix = (
        "SELECT "
        + ", ".join(
            f"set_config('{g}', {pgsql.Literal(values[g]).as_string(conn)}, true)" for g in _GUCS
        )
        + "; "
    )
    # With parameters psycopg formats the whole string: a '%' in a value must not be read as a
    # placeholder. Without, the string is sent as it is.
    return (prefix if params is None else prefix.replace("%", "%%")) + sql


def _client_side(cursor: Any) -> bool:
    """Whether a Django cursor sends its queries through the simple protocol (see _combined)."""
    raw = getattr(cursor, "cursor", None)
    return isinstance(raw, psycopg.ClientCursor) and not isinstance(raw, psycopg.ServerCursor)


_VARIABLES_PREFIX = re.compile(
    r"^SELECT (?:set_config\('[a-z_.]+', '(?:[^']|'')*', true\)(?:, )?)+; ", re.DOTALL
)


def without_variables(sql: str) -> str:
    """A statement as the caller wrote it: the tenant variables that ride in front of a unit's
    first statement taken off (for logs, EXPLAIN, query counts)."""
    return _VARIABLES_PREFIX.sub("", sql, count=1)


class _SetBeforeFirstStatement:
    """An execute wrapper that sets the variables right before the first statement the
    connection runs inside the context — in the same round trip as that statement when the
    cursor allows it (``SELECT set_config(...); <statement>`` as one simple-protocol query; the
    cursor is then moved on to the statement's own result), otherwise as one statement before it.

    An alias the unit of work never touches costs nothing: no statement, and behind PgBouncer no
    server connection held for the transaction. Django issues SAVEPOINT through the same
    wrappers, so an enclosing context's variables are always set before a nested savepoint opens
    (never inside one that might roll back).
    """

    def __init__(self, values: dict[str, str], *, keep_previous: bool) -> None:
        self.values = values
        self.keep_previous = keep_previous
        self.previous: dict[str, str] | None = None

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if self.previous is None:
            self.previous = {}  # first, so the statements below pass straight through
            combined = (
                None
                if self.keep_previous or many
                else _combined(context["cursor"], self.values, sql, params)
            )
            if combined is not None:
                result = execute(combined, params, many, context)
                context["cursor"].nextset()  # past set_config's row, to the statement's result
                return result
            self.previous = _apply(context["cursor"], self.values, keep_previous=self.keep_previous)
        return execute(sql, params, many, context)


def _context_for(
    who: Actor | uuid.UUID | str, correlation_id: str | None, aliases: list[str]
) -> tuple[TenantContext, dict[str, str], TenantContext | None]:
    """The context to open for ``who`` (nested in the active one, if any), the variables it
    sets, and the active context."""
    actor: Actor | None = who if isinstance(who, Actor) else None
    tenant = who.tenant_id if isinstance(who, Actor) else _as_uuid(who)
    active = _current.get()
    if active is not None and active.tenant_id != tenant:
        raise TenantSwitchRefused(
            NESTED_OTHER_TENANT.format(active=active.tenant_id, requested=tenant)
        )
    for alias in aliases:
        if alias not in TENANT_ALIASES:
            raise ValueError(UNKNOWN_ALIAS.format(known=sorted(TENANT_ALIASES), alias=alias))
    if active is not None:
        # A nested unit of work (a service called from a request) keeps the request's actor
        # and correlation id unless it names its own.
        actor = actor or active.actor
        correlation_id = correlation_id or active.correlation_id
    ctx = TenantContext(
        tenant_id=tenant,
        actor=actor,
        correlation_id=correlation_id or str(uuid.uuid4()),
        aliases=frozenset(aliases),
    )
    if active is not None and _same_values(active, ctx):
        # Only aliases whose transaction carries *these* values: an enclosing context's aliases
        # carry its own values, which may differ from ours (another user, another actor).
        ctx = dataclasses.replace(ctx, aliases=ctx.aliases | active.aliases)
    values = {
        GUC_TENANT: str(tenant),
        GUC_USER: str(ctx.user_id) if ctx.user_id else "",
        GUC_ACTOR: ctx.actor_label,
        GUC_CORRELATION: ctx.correlation_id,
    }
    return ctx, values, active


@contextmanager
def tenant_context(
    who: Actor | uuid.UUID | str,
    *,
    correlation_id: str | None = None,
    using: Iterable[str] | None = None,
) -> Iterator[TenantContext]:
    """Run the block for ``who`` on every runtime alias in ``using`` (default: all).

    ``who`` is an :class:`Actor` (its tenant, user and label are set) or a bare tenant id: no
    actor of its own, for lookups before anyone is known; nested in a context of the same
    tenant, such a unit keeps the enclosing actor.
    """
    aliases = list(RUNTIME_ALIASES if using is None else using)
    ctx, values, active = _context_for(who, correlation_id, aliases)
    token = _current.set(ctx)
    try:
        with ExitStack() as stack:
            for alias in aliases:
                conn = connections[alias]
                nested = conn.in_atomic_block
                stack.enter_context(transaction.atomic(using=alias))
                if active is not None and alias in active.aliases and _same_values(active, ctx):
                    continue  # the enclosing transaction carries (or will carry) these values
                setter = _SetBeforeFirstStatement(values, keep_previous=nested)
                if nested:
                    stack.push(functools.partial(_restore, alias, setter))
                stack.enter_context(conn.execute_wrapper(setter))
            yield ctx
    finally:
        _current.reset(token)


ONE_STATEMENT = (
    "A tenant_statement block sends exactly one statement through a client-side cursor; "
    "use tenant_context for more."
)


@contextmanager
def tenant_statement(
    who: Actor | uuid.UUID | str, *, using: str, correlation_id: str | None = None
) -> Iterator[TenantContext]:
    """A unit of work of exactly one statement on ``using``, in as few round trips as it can.

    Outside a transaction, the tenant variables and the statement go in one simple-protocol
    query, which PostgreSQL runs as one implicit transaction: one round trip, no BEGIN and no
    COMMIT, the variables transaction-local as always (so safe behind PgBouncer in transaction
    mode). Inside one (a request's, an enclosing service's, a test's), it is a nested unit of work
    as with :func:`tenant_context`, and when the enclosing context already carries its values,
    its savepoint travels with the statement (``SAVEPOINT; <statement>; RELEASE``: a refusal
    rolls back to it, and the enclosing transaction goes on). A second statement in the block is
    refused: it would run without the variables.
    """
    conn = connections[using]
    ctx, values, active = _context_for(who, correlation_id, [using])
    carried = active is not None and using in active.aliases and _same_values(active, ctx)
    # In a transaction whose variables are not ours, or (outside one) on a connection someone
    # switched out of autocommit: an ordinary unit of work.
    if not carried if conn.in_atomic_block else not conn.get_autocommit():
        with tenant_context(who, correlation_id=correlation_id, using=[using]) as nested:
            yield nested
        return
    token = _current.set(ctx)
    wrapper = _OneStatement(values, savepoint=conn.in_atomic_block)
    # Outermost, so that an enclosing context's variables (set with its first statement) come
    # before the savepoint: rolling back to it must not take them away.
    conn.execute_wrappers.insert(0, wrapper)
    try:
        yield ctx
    finally:
        conn.execute_wrappers.remove(wrapper)
        _current.reset(token)


class _OneStatement:
    """The execute wrapper of :func:`tenant_statement`: the variables (outside a transaction) or
    a savepoint (inside one) in the statement's own round trip."""

    def __init__(self, values: dict[str, str], *, savepoint: bool) -> None:
        self.values = values
        self.savepoint = f"aibos_{uuid.uuid4().hex}" if savepoint else None
        self.sent = self.inside = False

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if self.inside:
            # Sent by an inner wrapper on the way (an enclosing context setting its variables
            # with their own statement): not the block's statement.
            return execute(sql, params, many, context)
        cursor = context["cursor"]
        combined = None if self.sent or many else _combined(cursor, self.values, sql, params)
        if combined is None:
            raise RuntimeError(ONE_STATEMENT)
        self.sent = self.inside = True
        try:
            return self._send(execute, cursor, combined, sql, params, many, context)
        finally:
            self.inside = False

    def _send(
        self,
        execute: Callable[..., Any],
        cursor: Any,
        combined: str,
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if self.savepoint is None:
            result = execute(combined, params, many, context)
            cursor.nextset()  # past set_config's row, to the statement's result
            return result
        around = f"SAVEPOINT {self.savepoint}; {sql}; RELEASE SAVEPOINT {self.savepoint}"
        try:
            result = execute(around, params, many, context)
        except DatabaseError:
            # Back to before the statement; the enclosing transaction goes on. Only if the server
            # ran it and failed (an error raised before anything was sent left no savepoint),
            # on a cursor of its own (the caller's still tells what it sent).
            raw = cursor.cursor.connection
            if raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                with contextlib.suppress(psycopg.Error):
                    psycopg.ClientCursor(raw).execute(
                        f"ROLLBACK TO SAVEPOINT {self.savepoint}; RELEASE SAVEPOINT {self.savepoint}"
                    )
            raise
        cursor.nextset()  # past the SAVEPOINT, to the statement's result
        return result


def _same_values(a: TenantContext, b: TenantContext) -> bool:
    return (a.tenant_id, a.user_id, a.actor_label, a.correlation_id) == (
        b.tenant_id,
        b.user_id,
        b.actor_label,
        b.correlation_id,
    )


def _restore(
    alias: str, setter: _SetBeforeFirstStatement, exc_type: type[BaseException] | None, *exc: object
) -> bool:
    """Nested contexts: put the enclosing values back. On an exception the savepoint is rolled
    back, and the values with it; if no statement ran, nothing was set."""
    # Marked for rollback (set_rollback, an error response): the savepoint rollback restores the
    # values, and no statement may run before it.
    if exc_type is None and setter.previous and not connections[alias].needs_rollback:
        with connections[alias].cursor() as cur:
            _apply(cur, setter.previous, keep_previous=False)
    return False
