"""How each statement changes the schema state (:mod:`guardian.state`): CREATE and ALTER
TABLE, indexes, renames, drops, policies, grants, views, CREATE TABLE AS, SET SCHEMA.
A statement this does not model changes nothing."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType

from .findings import Location
from .sql import Statement, deparse, expression_text, names, qualified, range_vars, type_name
from .state import Column, ForeignKey, Index, Policy, SchemaState, Table, View


def apply_statement(state: SchemaState, stmt: Statement) -> None:
    node = stmt.node
    handler = _HANDLERS.get(type(node))
    if isinstance(node, ast.SelectStmt) and node.intoClause is not None:
        handler = _create_table_as
    if handler is not None:
        handler(state, node, stmt.location)


def column_from_def(coldef: Any) -> Column:
    col = Column(name=coldef.colname, type=type_name(coldef.typeName))
    for c in coldef.constraints or ():
        if c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY):
            col.not_null = True
        elif c.contype == ConstrType.CONSTR_DEFAULT and c.raw_expr is not None:
            col.default = deparse(c.raw_expr)
        elif c.contype == ConstrType.CONSTR_IDENTITY:
            col.not_null = True
            col.default = "identity"
    if names(coldef.typeName.names)[-1:] in (["serial"], ["bigserial"], ["smallserial"]):
        col.not_null = True
        col.default = "nextval(sequence)"
    return col


def _constraint(table: Table, con: Any, column: str | None = None) -> None:
    keys = tuple(names(con.keys)) or ((column,) if column else ())
    if con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
        name = con.conname or f"{table.name}_{'_'.join(keys)}_key"
        if con.indexname:  # ADD CONSTRAINT … USING INDEX: the index already exists
            return
        table.indexes.append(Index(name=name, columns=keys, unique=True))
        if con.contype == ConstrType.CONSTR_PRIMARY:
            for k in keys:
                if k in table.columns:
                    table.columns[k].not_null = True
    elif con.contype == ConstrType.CONSTR_FOREIGN:
        cols = tuple(names(con.fk_attrs)) or ((column,) if column else ())
        table.foreign_keys.append(
            ForeignKey(name=con.conname or "", columns=cols, target=qualified(con.pktable))
        )
    elif con.contype == ConstrType.CONSTR_CHECK and con.raw_expr is not None:
        table.checks[con.conname or f"check_{len(table.checks)}"] = (
            deparse(con.raw_expr),
            not con.skip_validation,
        )


def _create_table(state: SchemaState, node: Any, loc: Location) -> None:
    key = qualified(node.relation)
    if node.if_not_exists and key in state.tables:
        return  # CREATE TABLE IF NOT EXISTS on a table that exists does nothing
    t = Table(schema=node.relation.schemaname or "public", name=node.relation.relname)
    t.created_at = loc
    t.touched_at.append(loc)
    # Columns that come from elsewhere: the parents (INHERITS, PARTITION OF) and LIKE sources.
    for parent in node.inhRelations or ():
        _copy_columns(state, t, qualified(parent))
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            if elt.colname in t.columns and not elt.typeName:
                continue  # PARTITION OF … (col WITH OPTIONS …): the parent's column
            t.columns[str(elt.colname)] = column_from_def(elt)
            for c in elt.constraints or ():
                _constraint(t, c, column=elt.colname)
        elif isinstance(elt, ast.Constraint):
            _constraint(t, elt)
        elif isinstance(elt, ast.TableLikeClause):
            _copy_columns(state, t, qualified(elt.relation))
    if node.ofTypename is not None:
        t.columns_unknown = True  # CREATE TABLE … OF type: the type's attributes
    state.tables[t.key] = t


def _copy_columns(state: SchemaState, t: Table, source: str) -> None:
    src = state.tables.get(source)
    if src is None:
        t.columns_unknown = True
        return
    for name, col in src.columns.items():
        t.columns.setdefault(name, Column(col.name, col.type, col.not_null, col.default))


def _create_table_as(state: SchemaState, node: Any, loc: Location) -> None:
    """CREATE TABLE … AS, SELECT … INTO, CREATE MATERIALIZED VIEW: a copy of rows."""
    into: Any = node.into if isinstance(node, ast.CreateTableAsStmt) else node.intoClause
    rel: Any = into.rel
    key = qualified(rel)
    if getattr(node, "if_not_exists", False) and (key in state.tables or key in state.views):
        return
    query = node.query if isinstance(node, ast.CreateTableAsStmt) else node
    if isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_MATVIEW:
        reads = tuple(sorted({qualified(rv) for rv in range_vars(query) if rv.schemaname}))
        state.views[key] = View(
            schema=rel.schemaname or "public",
            name=rel.relname,
            security_invoker=False,
            reads=reads,
            created_at=loc,
            materialized=True,
        )
        return
    t = Table(schema=rel.schemaname or "public", name=rel.relname, created_at=loc)
    t.touched_at.append(loc)
    named = [n.sval for n in into.colNames or ()]
    sources = [qualified(rv) for rv in range_vars(query)]
    for target in getattr(query, "targetList", None) or ():
        val: Any = target.val
        fields: Any = val.fields if isinstance(val, ast.ColumnRef) else ()
        if fields and isinstance(fields[-1], ast.A_Star):
            for src in sources:
                _copy_columns(state, t, src)
        else:
            name = target.name or (fields[-1].sval if fields else None)
            if name:
                t.columns.setdefault(name, Column(name=name, type="?"))
            else:
                t.columns_unknown = True
    if named:  # CREATE TABLE t (a, b) AS …: the names given win, positionally
        t.columns = {n: Column(name=n, type="?") for n in named}
    state.tables[t.key] = t


_TABLE_KINDS = (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW)


def _alter_table(state: SchemaState, node: Any, loc: Location) -> None:
    key = qualified(node.relation)
    if node.objtype == ObjectType.OBJECT_VIEW or key in state.views:
        # ALTER TABLE accepts a view's name too: the state decides what the relation is.
        view = state.views.get(key)
        for cmd in node.cmds or ():
            if cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions) and view is not None:
                for opt in cmd.def_ or ():
                    if opt.defname == "security_invoker":
                        # RESET restores the default, which runs the view as its owner.
                        view.security_invoker = cmd.subtype == AT.AT_SetRelOptions and _truthy(
                            opt.arg
                        )
                        view.created_at = view.created_at or loc
        return
    if node.objtype not in _TABLE_KINDS:
        return  # ALTER INDEX / SEQUENCE / MATERIALIZED VIEW / TYPE / FOREIGN TABLE
    t = state.tables.get(key)
    if t is None:
        # A table the plan did not create and the catalog does not hold: keep what the plan says.
        t = state.tables[key] = Table(
            schema=node.relation.schemaname or "public", name=node.relation.relname
        )
    t.touched_at.append(loc)
    for cmd in node.cmds or ():
        st = cmd.subtype
        if st == AT.AT_AddColumn:
            col = column_from_def(cmd.def_)
            t.columns[col.name] = col
            t.removed.pop(col.name, None)
            for c in cmd.def_.constraints or ():
                _constraint(t, c, column=col.name)
        elif st == AT.AT_DropColumn:
            t.columns.pop(cmd.name, None)
            t.removed[cmd.name] = loc
        elif st == AT.AT_AlterColumnType and cmd.name in t.columns:
            t.columns[cmd.name].type = type_name(cmd.def_.typeName)
        elif st == AT.AT_SetNotNull and cmd.name in t.columns:
            t.columns[cmd.name].not_null = True
        elif st == AT.AT_DropNotNull and cmd.name in t.columns:
            t.columns[cmd.name].not_null = False
        elif st == AT.AT_ColumnDefault and cmd.name in t.columns:
            t.columns[cmd.name].default = deparse(cmd.def_) if cmd.def_ is not None else None
        elif st == AT.AT_AddConstraint:
            _constraint(t, cmd.def_)
        elif st == AT.AT_ValidateConstraint and cmd.name in t.checks:
            t.checks[cmd.name] = (t.checks[cmd.name][0], True)
        elif st == AT.AT_DropConstraint:
            t.checks.pop(cmd.name, None)
            t.foreign_keys = [fk for fk in t.foreign_keys if fk.name != cmd.name]
            t.indexes = [i for i in t.indexes if i.name != cmd.name]
        elif st == AT.AT_EnableRowSecurity:
            t.rls_enabled = True
            t.marks["rls"] = loc
        elif st == AT.AT_DisableRowSecurity:
            t.rls_enabled = False
            t.marks["rls"] = loc
        elif st == AT.AT_ForceRowSecurity:
            t.rls_forced = True
            t.marks["rls"] = loc
        elif st == AT.AT_NoForceRowSecurity:
            t.rls_forced = False
            t.marks["rls"] = loc


def _truthy(arg: object) -> bool:
    if arg is None:
        return True  # WITH (security_invoker) means true
    text = deparse(arg).strip("'").lower() if isinstance(arg, ast.Node) else str(arg).lower()
    return text in {"true", "on", "1", "yes"}


def index_columns(node: Any) -> tuple[str, ...]:
    return tuple(p.name if p.name else deparse(p.expr) for p in node.indexParams or ())


def _create_index(state: SchemaState, node: Any, loc: Location) -> None:
    t = state.tables.get(qualified(node.relation))
    if t is None:
        return
    t.touched_at.append(loc)
    name = node.idxname or f"{t.name}_idx{len(t.indexes)}"
    if not any(i.name == name for i in t.indexes):
        t.indexes.append(Index(name=name, columns=index_columns(node), unique=bool(node.unique)))


def _rename(state: SchemaState, node: Any, loc: Location) -> None:
    if node.relation is None:
        return
    key = qualified(node.relation)
    if key in state.views and node.renameType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_TABLE):
        view = state.views.pop(key)
        view.name = node.newname
        state.views[view.key] = view
        return
    if node.renameType == ObjectType.OBJECT_POLICY:
        pt = state.tables.get(key)
        if pt is not None and node.subname in pt.policies:
            policy = pt.policies.pop(node.subname)
            policy.name = node.newname
            pt.policies[policy.name] = policy
        return
    t = state.tables.get(key)
    if t is None:
        return
    t.touched_at.append(loc)
    if node.renameType == ObjectType.OBJECT_COLUMN and node.subname in t.columns:
        col = t.columns.pop(node.subname)
        col.name = node.newname
        t.columns[node.newname] = col
        t.removed[node.subname] = loc
    elif node.renameType == ObjectType.OBJECT_TABLE:
        del state.tables[key]
        t.name = node.newname
        state.tables[t.key] = t


def _drop(state: SchemaState, node: Any, loc: Location) -> None:
    for obj in node.objects or ():
        parts = names(obj) if isinstance(obj, tuple | list) else []
        if not parts:
            continue
        key = ".".join(parts) if len(parts) > 1 else f"public.{parts[0]}"
        if node.removeType == ObjectType.OBJECT_POLICY:
            # DROP POLICY name ON table: the object is (schema, table, name).
            table_key, _, policy = key.rpartition(".")
            table_key = table_key if "." in table_key else f"public.{table_key}"
            pt = state.tables.get(table_key)
            if pt is not None and pt.policies.pop(policy, None) is not None:
                pt.touched_at.append(loc)
                pt.marks["policy-dropped"] = loc
        elif node.removeType == ObjectType.OBJECT_TABLE:
            state.tables.pop(key, None)
        elif node.removeType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            state.views.pop(key, None)
        elif node.removeType == ObjectType.OBJECT_INDEX:
            schema, _, index = key.rpartition(".")
            for t in state.tables.values():
                if t.schema == schema:
                    t.indexes = [i for i in t.indexes if i.name != index]


_COMMANDS = {
    "all": "ALL",
    "select": "SELECT",
    "insert": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
}


def _role_name(spec: Any) -> str:
    return spec.rolename or {4: "public", 1: "current_user", 2: "session_user"}.get(
        int(spec.roletype), "?"
    )


def _alter_policy(state: SchemaState, node: Any, loc: Location) -> None:
    t = state.tables.get(qualified(node.table))
    if t is None or node.policy_name not in t.policies:
        return
    p = t.policies[node.policy_name]
    t.touched_at.append(loc)
    t.marks[f"policy:{p.name}"] = loc
    if node.roles:
        p.roles = tuple(_role_name(r) for r in node.roles)
    if node.qual is not None:
        p.using = expression_text(node.qual)
    if node.with_check is not None:
        p.check = expression_text(node.with_check)


def _set_schema(state: SchemaState, node: Any, loc: Location) -> None:
    if node.relation is None or node.objectType not in _TABLE_KINDS:
        return
    key = qualified(node.relation)
    t = state.tables.pop(key, None)
    if t is not None:
        t.touched_at.append(loc)
        t.moved_from = (key, loc)
        t.schema = node.newschema
        state.tables[t.key] = t
        return
    v = state.views.pop(key, None)
    if v is not None:
        v.schema = node.newschema
        state.views[v.key] = v


def _create_policy(state: SchemaState, node: Any, loc: Location) -> None:
    t = state.tables.get(qualified(node.table))
    if t is None:
        return
    t.touched_at.append(loc)
    t.marks[f"policy:{node.policy_name}"] = loc
    t.policies[node.policy_name] = Policy(
        name=node.policy_name,
        command=_COMMANDS.get(node.cmd_name or "all", "ALL"),
        roles=tuple(_role_name(r) for r in node.roles or ()),
        using=expression_text(node.qual) if node.qual is not None else None,
        check=expression_text(node.with_check) if node.with_check is not None else None,
    )


ALL_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def grant_privileges(node: Any) -> tuple[str, ...]:
    if node.privileges is None:  # GRANT ALL
        return ALL_TABLE_PRIVILEGES
    out: list[str] = []
    for p in node.privileges:
        # GRANT ALL (col, …) has a privilege without a name: every column privilege.
        out.extend(ALL_TABLE_PRIVILEGES if p.priv_name is None else (p.priv_name.upper(),))
    return tuple(dict.fromkeys(out))


def _grant(state: SchemaState, node: Any, loc: Location) -> None:
    if node.objtype != ObjectType.OBJECT_TABLE or node.targtype != 0:
        return
    privs = set(grant_privileges(node))
    for rv in node.objects or ():
        t = state.tables.get(qualified(rv)) if isinstance(rv, ast.RangeVar) else None
        if t is None:
            continue
        t.touched_at.append(loc)
        t.marks["grants"] = loc
        for spec in node.grantees or ():
            role = _role_name(spec)
            if node.is_grant:
                t.grants.setdefault(role, set()).update(privs)
            else:
                t.grants.get(role, set()).difference_update(privs)


def _create_view(state: SchemaState, node: Any, loc: Location) -> None:
    invoker = False
    for opt in node.options or ():
        if opt.defname == "security_invoker":
            invoker = _truthy(opt.arg)
    reads = tuple(sorted({qualified(rv) for rv in range_vars(node.query) if rv.schemaname}))
    v = View(
        schema=node.view.schemaname or "public",
        name=node.view.relname,
        security_invoker=invoker,
        reads=reads,
        created_at=loc,
    )
    state.views[v.key] = v


_HANDLERS = {
    ast.CreateStmt: _create_table,
    ast.AlterTableStmt: _alter_table,
    ast.IndexStmt: _create_index,
    ast.RenameStmt: _rename,
    ast.DropStmt: _drop,
    ast.CreatePolicyStmt: _create_policy,
    ast.GrantStmt: _grant,
    ast.ViewStmt: _create_view,
    ast.CreateTableAsStmt: _create_table_as,
    ast.AlterPolicyStmt: _alter_policy,
    ast.AlterObjectSchemaStmt: _set_schema,
}
