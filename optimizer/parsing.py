"""What a query asks of each table, read from the pglast (libpg_query) parse tree.

The advisor needs, per table: the columns compared with a value (equality, range), the columns
joined on, the sort, and whether there is an ``OFFSET`` and how deep. Regexes cannot tell
``tenant_id`` in a WHERE from ``tenant_id`` in a select list; the parse tree can, and it is the
same parser PostgreSQL uses, so anything PostgreSQL runs parses here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, SortByDir, SubLinkType

from aibos.db.identifiers import qualified_ident

TENANT_COLUMN = "tenant_id"
EQUALITY_OPERATORS = {"="}
RANGE_OPERATORS = {"<", ">", "<=", ">="}
# Django writes placeholders as %s and a literal percent sign as %%.
_DJANGO_PLACEHOLDER = re.compile(r"%%|%s")


@dataclass(frozen=True)
class TableRef:
    schema: str | None
    name: str

    @property
    def quoted(self) -> str:
        """For SQL text: each part an identifier, embedded quotes doubled."""
        return qualified_ident(self.schema, self.name)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def model(self) -> Any:
        """The Django model whose table this is, or None (Django spells a schema-qualified
        table ``schema"."name``; a table in public may be spelt bare)."""
        from django.apps import apps

        wanted = {f'{self.schema}"."{self.name}' if self.schema else self.name}
        if self.schema in (None, "public"):
            wanted.add(self.name)
        return next((m for m in apps.get_models() if m._meta.db_table in wanted), None)


@dataclass
class TableUse:
    """What one query does with one table."""

    table: TableRef
    equality: list[str] = field(default_factory=list)  # in the order they appear
    range: list[str] = field(default_factory=list)
    join: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    updated: list[str] = field(default_factory=list)  # SET columns of an UPDATE
    # tenant_id compared with a value, or joined to a table that has such a predicate.
    tenant_predicate: bool = False

    def _add(self, bucket: list[str], column: str) -> None:
        if column not in bucket:
            bucket.append(column)


@dataclass
class QueryShape:
    sql: str
    kind: str  # "select", "update", "delete", "insert", "other"
    tables: dict[TableRef, TableUse]
    has_offset: bool = False
    offset_literal: int | None = None  # None when the offset is a parameter ($n) or absent
    offset_param: int | None = None  # the $n number holding the offset, if it is one
    has_limit: bool = False

    def use(self, table: TableRef) -> TableUse | None:
        return self.tables.get(table)


def django_sql_to_dollar(sql: str) -> str:
    """``... = %s AND b LIKE 'x%%'`` -> ``... = $1 AND b LIKE 'x%'``: the form PREPARE takes and
    pg_stat_statements shows, so captured and server-side queries fingerprint alike."""
    counter = iter(range(1, 10_000))

    def repl(match: re.Match[str]) -> str:
        return "%" if match.group() == "%%" else f"${next(counter)}"

    return _DJANGO_PLACEHOLDER.sub(repl, sql)


@lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """pglast's fingerprint: identical for queries that differ only in constants."""
    try:
        return str(pglast.fingerprint(sql))
    except pglast.parser.ParseError:
        return "unparsed:" + str(abs(hash(sql)))


def parse(sql: str) -> QueryShape | None:
    """The shape of the first statement, or None when it does not parse."""
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    if not statements:
        return None
    return _Collector(sql).collect(statements[0].stmt)


def _column_ref(node: object) -> tuple[str | None, str] | None:
    """``(qualifier, column)`` for a ColumnRef; the qualifier is an alias or a table name."""
    if not isinstance(node, ast.ColumnRef):
        return None
    fields = node.fields or ()
    names = [str(f.sval) for f in fields if isinstance(f, ast.String)]
    if not names or len(names) != len(fields):  # `t.*`
        return None
    if len(names) == 1:
        return None, names[0]
    # "schema"."table"."column" (Django) or alias.column
    return ".".join(names[:-1]), names[-1]


def _is_value(node: object) -> bool:
    """A constant, a parameter, or something evaluated once per statement (a sub-select, as in
    the RLS predicate's ``(SELECT current_setting(...))``)."""
    if isinstance(node, ast.TypeCast):
        return _is_value(node.arg)
    if isinstance(node, (ast.A_Const, ast.ParamRef)):
        return True
    if isinstance(node, ast.SubLink):
        return node.subLinkType == SubLinkType.EXPR_SUBLINK
    if isinstance(node, ast.FuncCall):
        return all(_is_value(a) for a in node.args or ())
    return False


class _Collector:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.aliases: dict[str, TableRef] = {}  # alias or bare/qualified name -> table
        self.uses: dict[TableRef, TableUse] = {}
        self.joins: list[tuple[tuple[str | None, str], tuple[str | None, str]]] = []

    def collect(self, stmt: object) -> QueryShape:
        kind = {
            ast.SelectStmt: "select",
            ast.UpdateStmt: "update",
            ast.DeleteStmt: "delete",
            ast.InsertStmt: "insert",
        }.get(type(stmt), "other")
        shape = QueryShape(sql=self.sql, kind=kind, tables=self.uses)
        if kind == "other":
            return shape
        for rv in _walk(stmt, ast.RangeVar):
            self._register(rv)
        for node in _walk(stmt, ast.SelectStmt, ast.UpdateStmt, ast.DeleteStmt):
            self._predicates(getattr(node, "whereClause", None))
            for join in _walk_shallow_joins(node):
                self._predicates(join.quals)
            if isinstance(node, ast.SelectStmt):
                for sortby in node.sortClause or ():
                    ref = _column_ref(sortby.node)
                    use = self._resolve(ref)
                    if use and ref:
                        entry = (ref[1], sortby.sortby_dir == SortByDir.SORTBY_DESC)
                        if entry not in use.sort:
                            use.sort.append(entry)
        self._tenant_through_joins()
        if isinstance(stmt, ast.UpdateStmt) and stmt.relation is not None:
            relation: Any = stmt.relation
            target = self.uses.get(TableRef(relation.schemaname, relation.relname))
            for res in stmt.targetList or ():
                if target is not None and isinstance(res, ast.ResTarget) and res.name:
                    target._add(target.updated, res.name)
        if isinstance(stmt, ast.SelectStmt):
            shape.has_limit = stmt.limitCount is not None
            offset = stmt.limitOffset
            if offset is not None:
                shape.has_offset = True
                inner = offset.arg if isinstance(offset, ast.TypeCast) else offset
                if isinstance(inner, ast.A_Const) and isinstance(inner.val, ast.Integer):
                    shape.offset_literal = inner.val.ival
                elif isinstance(inner, ast.ParamRef):
                    shape.offset_param = inner.number
        return shape

    def _register(self, rv: Any) -> None:
        table = TableRef(rv.schemaname, str(rv.relname))
        self.uses.setdefault(table, TableUse(table))
        self.aliases[rv.relname] = table
        if rv.schemaname:
            self.aliases[f"{rv.schemaname}.{rv.relname}"] = table
        if rv.alias is not None:
            self.aliases[rv.alias.aliasname] = table

    def _resolve(self, ref: tuple[str | None, str] | None) -> TableUse | None:
        if ref is None:
            return None
        qualifier, _ = ref
        if qualifier is None:
            # Unqualified: unambiguous only when the query reads one table.
            return next(iter(self.uses.values())) if len(self.uses) == 1 else None
        table = self.aliases.get(qualifier)
        return self.uses.get(table) if table else None

    def _predicates(self, node: object) -> None:
        if node is None:
            return
        if isinstance(node, ast.BoolExpr) and node.args:
            # OR branches still say which columns are filtered; NOT is left alone (an index
            # rarely serves a negation).
            if node.boolop != BoolExprType.NOT_EXPR:
                for arg in node.args:
                    self._predicates(arg)
            return
        if isinstance(node, ast.SubLink) and node.subLinkType == SubLinkType.ANY_SUBLINK:
            self._compare(node.testexpr, None, "=")
            return
        if not isinstance(node, ast.A_Expr):
            return
        op = node.name[-1].sval if node.name else ""
        if node.kind == A_Expr_Kind.AEXPR_OP and op in EQUALITY_OPERATORS | RANGE_OPERATORS:
            self._compare(node.lexpr, node.rexpr, op)
        elif node.kind == A_Expr_Kind.AEXPR_IN:
            self._compare(node.lexpr, None, "=")
        elif node.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
            self._compare(node.lexpr, None, "<")

    def _compare(self, left: object, right: object, op: str) -> None:
        lref, rref = _column_ref(left), _column_ref(right)
        if lref and rref and op == "=":
            self.joins.append((lref, rref))
            for side in (lref, rref):
                joined = self._resolve(side)
                if joined:
                    joined._add(joined.join, side[1])
            return
        ref = lref if lref and (right is None or _is_value(right)) else None
        if ref is None and rref and _is_value(left):
            ref = rref
        use = self._resolve(ref)
        if use is None or ref is None:
            return
        if op == "=":
            use._add(use.equality, ref[1])
            if ref[1] == TENANT_COLUMN:
                use.tenant_predicate = True
        else:
            use._add(use.range, ref[1])

    def _tenant_through_joins(self) -> None:
        # a.tenant_id = b.tenant_id carries b's tenant predicate to a (and back).
        changed = True
        while changed:
            changed = False
            for lref, rref in self.joins:
                if lref[1] != TENANT_COLUMN or rref[1] != TENANT_COLUMN:
                    continue
                left, right = self._resolve(lref), self._resolve(rref)
                if left and right and left.tenant_predicate != right.tenant_predicate:
                    left.tenant_predicate = right.tenant_predicate = True
                    changed = True


def _walk(node: object, *types: type) -> Iterator[ast.Node]:
    """Every node of the given types under ``node`` (itself included), depth first."""
    if isinstance(node, types):
        yield node  # type: ignore[misc]
    if isinstance(node, ast.Node):
        for name in node:
            yield from _walk(getattr(node, name), *types)
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item, *types)


def _walk_shallow_joins(stmt: object) -> Iterator[ast.JoinExpr]:
    for item in getattr(stmt, "fromClause", None) or ():
        stack = [item]
        while stack:
            cur = stack.pop()
            if isinstance(cur, ast.JoinExpr):
                yield cur
                stack += [cur.larg, cur.rarg]
