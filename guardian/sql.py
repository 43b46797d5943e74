"""SQL through the PostgreSQL parser (pglast): statements with their 1-based lines, and helpers
that read names and types off parse-tree nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream

from aibos.db.identifiers import qualified_ident

from .findings import Location

ERR_PARSE = "the PostgreSQL parser rejects this SQL: {error}"


@dataclass(frozen=True)
class Statement:
    node: Any  # a pglast.ast statement node
    text: str
    location: Location
    leading: str = ""  # the comments just before it (inline ignores live there)


class SqlParseError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _start_offset(text: str) -> int:
    """Skip the whitespace and `--` comments that pglast counts as part of a statement."""
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i)
            i = len(text) if end < 0 else end + 2
        else:
            break
    return i


def split_statements(sql: str, base: Location, first_line: int = 1) -> list[Statement]:
    """Parse ``sql``; each statement gets ``base`` with its own line (``first_line`` = line 1).

    Transaction control (BEGIN/COMMIT that ``sqlmigrate`` wraps around a migration) is dropped:
    the unit of analysis is the statement, not the wrapper.
    """
    try:
        raw = pglast.parse_sql(sql)
    except pglast.parser.ParseError as exc:
        # args[1] is the error's 1-based character offset into the input.
        offset = max(int(exc.args[1]) - 1, 0) if len(exc.args) > 1 else 0
        line = first_line + sql.count("\n", 0, offset)
        raise SqlParseError(ERR_PARSE.format(error=exc.args[0]), line) from exc
    out: list[Statement] = []
    prev_end = 0
    line_at, lines_before = 0, 0  # newlines counted so far, up to offset line_at
    for stmt in raw:
        # Offsets are characters into the text; the parser's start skips leading comments,
        # which this keeps as `leading` (inline ignores are written there).
        start = stmt.stmt_location or 0
        end = start + stmt.stmt_len if stmt.stmt_len else len(sql)
        leading = sql[prev_end:start].lstrip(";")
        prev_end = end
        if isinstance(stmt.stmt, ast.TransactionStmt):
            continue
        chunk = sql[start:end]
        skip = _start_offset(chunk)
        lines_before += sql.count("\n", line_at, start)
        line_at = start
        line = first_line + lines_before + chunk[:skip].count("\n")
        loc = Location(**{**base.__dict__, "line": line}) if base.source == "file" else base
        out.append(
            Statement(
                node=stmt.stmt,
                text=chunk[skip:].strip().rstrip(";"),
                location=loc,
                leading=leading + chunk[:skip],
            )
        )
    return out


def deparse(node: Any) -> str:
    return str(RawStream()(node))


def qualified(rangevar: Any, default_schema: str = "public") -> str:
    """``schema.name`` of a RangeVar (pglast types every node attribute as optional)."""
    return f"{rangevar.schemaname or default_schema}.{rangevar.relname}"


def quoted(rangevar: Any, default_schema: str = "public") -> str:
    return qualified_ident(rangevar.schemaname or default_schema, rangevar.relname)


def names(seq: Any) -> list[str]:
    """A tuple of String nodes (type names, qualified names) as plain strings."""
    return [str(n.sval) for n in (seq or ()) if isinstance(n, ast.String)]


# pglast spells built-in types by their catalog names; the catalog and format_type spell them
# the SQL way. Everything is compared in the catalog's spelling.
_TYPE_ALIASES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "character",
    "varchar": "character varying",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "serial": "integer",  # serial's sequence default is what sets it apart
    "bigserial": "bigint",
    "smallserial": "smallint",
}


def type_name(type_node: ast.TypeName) -> str:
    """``pg_catalog.varchar(32)`` -> ``character varying(32)``; arrays end in ``[]``."""
    parts = [p for p in names(type_node.names) if p != "pg_catalog"]
    base = _TYPE_ALIASES.get(parts[-1], parts[-1]) if parts else "?"
    mods = [
        str(m.val.ival)
        for m in (type_node.typmods or ())
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    ]
    text = base + (f"({','.join(mods)})" if mods else "")
    return text + "[]" * len(type_node.arrayBounds or ())


def base_type(type_text: str) -> str:
    """``character varying(32)`` -> ``character varying``; ``timestamp(3) without time zone``
    -> ``timestamp without time zone`` (format_type puts the precision in the middle)."""
    return " ".join(re.sub(r"\(\s*\d+\s*(,\s*\d+\s*)?\)", "", type_text).removesuffix("[]").split())


def walk(node: Any) -> Iterator[Any]:
    """Every node under ``node`` (pglast's Visitor is heavier than this needs)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, tuple | list):
            stack.extend(reversed(cur))
        elif isinstance(cur, ast.Node):
            yield cur
            for attr in cur:
                stack.append(getattr(cur, attr))


def range_vars(node: Any) -> list[ast.RangeVar]:
    return [n for n in walk(node) if isinstance(n, ast.RangeVar)]


def func_names(node: Any) -> list[str]:
    return [".".join(names(n.funcname)) for n in walk(node) if isinstance(n, ast.FuncCall)]


def _is_text_literal_cast(node: Any) -> bool:  # node: Any, pglast types attributes optional
    return (
        isinstance(node, ast.TypeCast)
        and isinstance(node.arg, ast.A_Const)
        and names(getattr(node.typeName, "names", ()))[-1:] == ["text"]
    )


def _strip(node: Any) -> Any:
    if isinstance(node, tuple | list):
        items = tuple(_strip(x) for x in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not isinstance(node, ast.Node):
        return node
    if _is_text_literal_cast(node):
        return getattr(node, "arg", None)
    for attr in node:
        if isinstance(node, ast.ResTarget) and attr == "name":
            node.name = None
            continue
        value = getattr(node, attr)
        if isinstance(value, ast.Node | tuple | list):
            stripped = _strip(value)
            if stripped is not value:
                setattr(node, attr, stripped)
    return node


@cache
def normalize_expression(expr: str) -> str:
    """One spelling for an expression however it was written: the migration's SQL and
    PostgreSQL's own deparse (``'x'::text``, ``AS "nullif"``) compare equal."""
    select: Any = pglast.parse_sql(f"SELECT {expr}")[0].stmt
    return deparse(_strip(select.targetList[0].val))


_EXPRESSIONS: dict[str, str] = {}


def _without_locations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_locations(v) for k, v in value.items() if k != "location"}
    if isinstance(value, list | tuple):
        return [_without_locations(v) for v in value]
    return value


def expression_text(node: Any) -> str:
    """:func:`normalize_expression` of a parse-tree node. Deparsing is the costly step, and a
    schema repeats the same few expressions (one tenant predicate per table): they are cached
    by their structure, which ignores where in the text they were found."""
    key = json.dumps(_without_locations(node()), sort_keys=True, default=str)
    text = _EXPRESSIONS.get(key)
    if text is None:
        if len(_EXPRESSIONS) > 10_000:
            _EXPRESSIONS.clear()
        text = _EXPRESSIONS[key] = normalize_expression(deparse(node))
    return text
