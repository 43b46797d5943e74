"""Read the live catalog into :mod:`guardian.catalog.types` values."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from guardian.catalog import queries
from guardian.catalog.types import (
    Catalog,
    Column,
    Constraint,
    EnumType,
    Extension,
    Function,
    Grant,
    Index,
    Policy,
    Schema,
    SequenceDef,
    ServerInfo,
    Table,
    TableStats,
    Trigger,
    View,
)

# Privileges in the order GRANT documents them, so a grant reads the same everywhere.
PRIVILEGE_ORDER = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "USAGE",
    "CREATE",
    "EXECUTE",
)
CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "f": "foreign key",
    "c": "check",
    "x": "exclusion",
}
FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
TRIGGER_ENABLED = {"O": "origin", "A": "always", "R": "replica", "D": "disabled"}
FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
IDENTITY = {"a": "always", "d": "by default"}
# pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h).
_TG_ROW, _TG_BEFORE, _TG_INSERT, _TG_DELETE, _TG_UPDATE, _TG_TRUNCATE, _TG_INSTEAD = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
)
_TRUE_OPTIONS = ("true", "on", "yes", "1")

RelKey = tuple[str, str]


def read_catalog(connection: BaseDatabaseWrapper, schemas: Sequence[str] | None = None) -> Catalog:
    """Everything the guardian and the schema document need, in a fixed number of queries.

    ``schemas``: the schemas to read; ``None`` reads every non-system schema. Works for any
    role that can connect (the monitor role included): only pg_catalog is read. What depends
    on the reader is said where it applies: ``Table.stats`` and ``total_bytes`` are the same
    for every role; nothing here needs the owner.
    """
    # One transaction: the queries see one another's objects even if DDL commits in between
    # would otherwise split a table from its columns (nested atomic is a savepoint).
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        server = _server(cursor)
        wanted = sorted(set(schemas)) if schemas is not None else []
        schema_rows = _rows(cursor, queries.SCHEMAS, {"all": schemas is None, "schemas": wanted})
        names = sorted(r[0] for r in schema_rows)
        params = {"schemas": names}
        grants = _grants(_rows(cursor, queries.GRANTS, params))
        columns = _columns(_rows(cursor, queries.COLUMNS, params), grants)
        tables = _tables(cursor, params, columns, grants)
        views = _views(_rows(cursor, queries.VIEWS, params), columns, grants)
        functions = _functions(_rows(cursor, queries.FUNCTIONS, params), grants)
        enums = _enums(_rows(cursor, queries.ENUMS, params))
        sequences = _sequences(_rows(cursor, queries.SEQUENCES, params), grants)
    return Catalog(
        server=server,
        schemas=tuple(
            Schema(name=n, owner=o, comment=c, grants=grants[("schema", n, "", "")])
            for n, o, c in sorted(schema_rows)
        ),
        tables=tables,
        views=views,
        functions=functions,
        enums=enums,
        sequences=sequences,
    )


def _rows(cursor: Any, sql: str, params: Any) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _server(cursor: Any) -> ServerInfo:
    cursor.execute(queries.SERVER)
    version, num, encoding, collation, timezone, extensions = cursor.fetchone()
    if isinstance(extensions, str):  # json arrives parsed from psycopg; text from others
        extensions = json.loads(extensions)
    return ServerInfo(
        version=version,
        version_num=num,
        encoding=encoding,
        collation=collation,
        timezone=timezone,
        extensions=tuple(
            Extension(name=e[0], version=e[1], schema=e[2]) for e in sorted(extensions)
        ),
    )


GrantKey = tuple[str, str, str, str]  # (object kind, schema, name, column or arguments)


def _grants(rows: list[tuple[Any, ...]]) -> defaultdict[GrantKey, tuple[Grant, ...]]:
    held: defaultdict[GrantKey, defaultdict[str, dict[str, bool]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for kind, schema, name, sub, grantee, privilege, grantable in rows:
        held[(kind, schema, name or "", sub or "")][grantee][privilege] = grantable
    result: defaultdict[GrantKey, tuple[Grant, ...]] = defaultdict(tuple)
    for key, by_grantee in held.items():
        result[key] = tuple(
            Grant(
                grantee=grantee,
                privileges=_ordered(privileges),
                grantable=_ordered(p for p, g in privileges.items() if g),
            )
            for grantee, privileges in sorted(by_grantee.items())
        )
    return result


def _ordered(privileges: Any) -> tuple[str, ...]:
    rank = {p: i for i, p in enumerate(PRIVILEGE_ORDER)}
    return tuple(sorted(set(privileges), key=lambda p: (rank.get(p, len(rank)), p)))


def _columns(
    rows: list[tuple[Any, ...]], grants: defaultdict[GrantKey, tuple[Grant, ...]]
) -> defaultdict[RelKey, list[Column]]:
    by_relation: defaultdict[RelKey, list[Column]] = defaultdict(list)
    for schema, rel, name, num, type_, nullable, identity, generated, expr, comment in rows:
        by_relation[(schema, rel)].append(
            Column(
                name=name,
                ordinal=num,
                type=type_,
                nullable=nullable,
                # A stored generated column keeps its expression where a default would be.
                default=None if generated else expr,
                identity=IDENTITY.get(identity),
                generated=expr if generated else None,
                comment=comment,
                grants=grants[("column", schema, rel, name)],
            )
        )
    for columns in by_relation.values():
        columns.sort(key=lambda c: c.ordinal)
    return by_relation


def _grouped(rows: list[tuple[Any, ...]]) -> defaultdict[RelKey, list[tuple[Any, ...]]]:
    by_relation: defaultdict[RelKey, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_relation[(row[0], row[1])].append(row[2:])
    return by_relation


def _tables(
    cursor: Any,
    params: dict[str, Any],
    columns: defaultdict[RelKey, list[Column]],
    grants: defaultdict[GrantKey, tuple[Grant, ...]],
) -> tuple[Table, ...]:
    constraints = _grouped(_rows(cursor, queries.CONSTRAINTS, params))
    indexes = _grouped(_rows(cursor, queries.INDEXES, params))
    policies = _grouped(_rows(cursor, queries.POLICIES, params))
    triggers = _grouped(_rows(cursor, queries.TRIGGERS, params))
    tables = []
    for row in _rows(cursor, queries.TABLES, params):
        schema, name, relkind, owner, comment, rls, forced, reltuples, relpages, size = row[:10]
        has_stats, live, ins, upd, dele, seq, idx = row[10:17]
        partkey, parent_schema, parent, bound = row[17:]
        key = (schema, name)
        tables.append(
            Table(
                schema=schema,
                name=name,
                kind="partitioned table" if relkind == "p" else "table",
                owner=owner,
                comment=comment,
                rls_enabled=rls,
                rls_forced=forced,
                reltuples=float(reltuples),
                relpages=relpages,
                total_bytes=size,
                stats=TableStats(live, ins, upd, dele, seq, idx) if has_stats else None,
                partition_key=partkey,
                partition_of=f"{parent_schema}.{parent}" if parent else None,
                partition_bound=bound,
                columns=tuple(columns[key]),
                constraints=tuple(sorted(map(_constraint, constraints[key]), key=_by_name)),
                indexes=tuple(sorted(map(_index, indexes[key]), key=_by_name)),
                policies=tuple(sorted(map(_policy, policies[key]), key=_by_name)),
                triggers=tuple(sorted(map(_trigger, triggers[key]), key=_by_name)),
                grants=grants[("relation", schema, name, "")],
            )
        )
    return tuple(sorted(tables, key=lambda t: (t.schema, t.name)))


def _by_name(item: Any) -> str:
    return str(item.name)


def _constraint(row: tuple[Any, ...]) -> Constraint:
    name, kind, cols, definition, validated, deferrable, deferred = row[:7]
    ref_schema, ref_table, ref_cols, on_delete, on_update = row[7:]
    foreign = kind == "f"
    return Constraint(
        name=name,
        kind=CONSTRAINT_KINDS[kind],
        columns=tuple(cols),
        definition=definition,
        validated=validated,
        deferrable=deferrable,
        initially_deferred=deferred,
        referenced_schema=ref_schema if foreign else None,
        referenced_table=ref_table if foreign else None,
        referenced_columns=tuple(ref_cols) if foreign else (),
        on_delete=FK_ACTIONS.get(on_delete) if foreign else None,
        on_update=FK_ACTIONS.get(on_update) if foreign else None,
    )


def _index(row: tuple[Any, ...]) -> Index:
    name, definition, cols, include, method, unique, primary, valid, predicate, constraint = row
    return Index(
        name=name,
        definition=definition,
        columns=tuple(cols),
        include=tuple(include),
        method=method,
        unique=unique,
        primary=primary,
        valid=valid,
        predicate=predicate,
        constraint=constraint,
    )


def _policy(row: tuple[Any, ...]) -> Policy:
    name, command, permissive, roles, using, with_check = row
    return Policy(
        name=name,
        command=POLICY_COMMANDS[command],
        permissive=permissive,
        roles=tuple(sorted(roles)),
        using=using,
        with_check=with_check,
    )


def _trigger(row: tuple[Any, ...]) -> Trigger:
    name, tgtype, fn_schema, fn_name, enabled, constraint, deferrable, deferred, definition = row
    if tgtype & _TG_INSTEAD:
        timing = "INSTEAD OF"
    elif tgtype & _TG_BEFORE:
        timing = "BEFORE"
    else:
        timing = "AFTER"
    events = tuple(
        event
        for bit, event in (
            (_TG_INSERT, "INSERT"),
            (_TG_UPDATE, "UPDATE"),
            (_TG_DELETE, "DELETE"),
            (_TG_TRUNCATE, "TRUNCATE"),
        )
        if tgtype & bit
    )
    return Trigger(
        name=name,
        timing=timing,
        events=events,
        level="ROW" if tgtype & _TG_ROW else "STATEMENT",
        function=f"{fn_schema}.{fn_name}",
        enabled=TRIGGER_ENABLED[enabled],
        constraint=constraint,
        deferrable=deferrable,
        initially_deferred=deferred,
        definition=definition,
    )


def _option(options: Sequence[str], name: str) -> bool:
    return any(
        o.split("=", 1)[0] == name and o.split("=", 1)[1].lower() in _TRUE_OPTIONS
        for o in options
        if "=" in o
    )


def _views(
    rows: list[tuple[Any, ...]],
    columns: defaultdict[RelKey, list[Column]],
    grants: defaultdict[GrantKey, tuple[Grant, ...]],
) -> tuple[View, ...]:
    views = [
        View(
            schema=schema,
            name=name,
            kind="materialized view" if relkind == "m" else "view",
            owner=owner,
            comment=comment,
            options=tuple(sorted(options)),
            security_invoker=_option(options, "security_invoker"),
            security_barrier=_option(options, "security_barrier"),
            definition=definition,
            columns=tuple(columns[(schema, name)]),
            grants=grants[("relation", schema, name, "")],
        )
        for schema, name, relkind, owner, comment, options, definition in rows
    ]
    return tuple(sorted(views, key=lambda v: (v.schema, v.name)))


def _functions(
    rows: list[tuple[Any, ...]], grants: defaultdict[GrantKey, tuple[Grant, ...]]
) -> tuple[Function, ...]:
    functions = [
        Function(
            schema=schema,
            name=name,
            identity_arguments=args,
            result_type=result,
            kind=FUNCTION_KINDS[kind],
            language=language,
            security_definer=definer,
            owner=owner,
            volatility=VOLATILITY[volatility],
            config=tuple(config),
            comment=comment,
            source=source or "",
            grants=grants[("function", schema, name, args)],
        )
        for (
            schema,
            name,
            args,
            result,
            kind,
            language,
            definer,
            owner,
            volatility,
            config,
            comment,
            source,
        ) in rows
    ]
    return tuple(sorted(functions, key=lambda f: (f.schema, f.name, f.identity_arguments)))


def _enums(rows: list[tuple[Any, ...]]) -> tuple[EnumType, ...]:
    enums = [
        EnumType(schema=schema, name=name, owner=owner, labels=tuple(labels), comment=comment)
        for schema, name, owner, labels, comment in rows
    ]
    return tuple(sorted(enums, key=lambda e: (e.schema, e.name)))


def _sequences(
    rows: list[tuple[Any, ...]], grants: defaultdict[GrantKey, tuple[Grant, ...]]
) -> tuple[SequenceDef, ...]:
    sequences = [
        SequenceDef(
            schema=schema,
            name=name,
            owner=owner,
            data_type=data_type,
            start=start,
            increment=increment,
            minimum=minimum,
            maximum=maximum,
            cycle=cycle,
            owned_by=owned_by,
            grants=grants[("relation", schema, name, "")],
        )
        for schema, name, owner, data_type, start, increment, minimum, maximum, cycle, owned_by in rows
    ]
    return tuple(sorted(sequences, key=lambda s: (s.schema, s.name)))
