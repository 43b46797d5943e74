"""Table governance declared on the model ``Meta``: privileges, RLS, audit and row triggers.

Each governed model lists a :class:`TableGovernance` (and, for every key to another tenant
table, a :class:`TenantForeignKey`) in ``Meta.constraints``. They are not constraints in
Django's sense; using the constraint API means ``makemigrations`` writes them into numbered,
reversible migrations next to the table they govern, and removing one is a visible migration.

Everything emitted here is checked against the catalog by ``tests/security``: a table that
forgets its governance fails the suite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import BaseConstraint, Model

# Inlinable, fail-closed: an unset variable reads NULL on a fresh connection and '' on a reused
# one; NULLIF maps both to NULL, and `tenant_id = NULL` matches no row. The sub-select makes it
# an InitPlan evaluated once per statement, so a tenant-leading index drives the scan.
TENANT_PREDICATE = "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"

RLS_TENANT = "tenant"  # one policy for USING and WITH CHECK, every command
RLS_AUDIT_LOG = "audit_log"  # tenant-scoped reads; inserts only through the audit function
RLS_CHOICES = (RLS_TENANT, RLS_AUDIT_LOG)
AUDIT_OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def quoted_table(db_table: str) -> str:
    """``'kernel"."users'`` (Django's schema-qualified db_table) -> ``'"kernel"."users"'``."""
    return f'"{db_table}"'


class _DeferredDdlConstraint(BaseConstraint):
    """A 'constraint' that is really DDL run after the table exists; validated by Postgres."""

    def constraint_sql(  # type: ignore[override]  # None: nothing goes into CREATE TABLE
        self, model: type[Model] | None, schema_editor: Any
    ) -> str | None:
        # CREATE TABLE cannot carry policies, grants or triggers: run them once the migration's
        # tables exist (deferred SQL runs at the end of the schema editor block).
        schema_editor.deferred_sql.append(self.create_sql(model, schema_editor))
        return None

    def validate(self, *args: Any, **kwargs: Any) -> None:
        # Enforced by the database; nothing to check in Python.
        return None

    # Equal when they would emit the same DDL: that is what the migration autodetector asks.
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _DeferredDdlConstraint)
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash(self.name)


class TableGovernance(_DeferredDdlConstraint):
    """Privileges, row-level security and triggers for one table.

    - ``grants``: role -> privileges. Everything else is revoked from PUBLIC.
    - ``rls``: ``"tenant"`` (ENABLE + FORCE, one policy for USING and WITH CHECK) or
      ``"audit_log"``; ``None`` for tables without ``tenant_id`` (say why in docs/data-model.md).
    - ``audit``: the tenant column for :func:`kernel.audit_capture` (``"tenant_id"``, ``"id"``
      for the tenants table, ``""`` for global rows); ``None`` disables auditing.
    - ``audit_operations``: what the audit trigger records; a table whose inserts are audited by
      a trigger of its own (the ledger: a posted entry's event carries its lines) leaves out
      ``INSERT`` and declares that trigger on the model.
    - ``redact``: columns whose values never reach the audit log (password hashes, secrets).
    - ``versioned``: the database bumps ``version`` on every update.
    - ``append_only``: UPDATE and DELETE are refused by a trigger, for every role.
    - ``predicate``: the tenant predicate of the policies. It is written into the migration, so
      changing :data:`TENANT_PREDICATE` produces a migration that re-creates every policy
      instead of silently diverging between old and new databases.
    """

    def __init__(
        self,
        *,
        name: str,
        grants: Mapping[str, Sequence[str]],
        rls: str | None = RLS_TENANT,
        audit: str | None = "tenant_id",
        audit_operations: Sequence[str] = AUDIT_OPERATIONS,
        redact: Sequence[str] = (),
        versioned: bool = False,
        touch: bool = True,
        append_only: bool = False,
        predicate: str = TENANT_PREDICATE,
    ) -> None:
        if rls is not None and rls not in RLS_CHOICES:
            raise ValueError(f"rls must be one of {RLS_CHOICES} or None, got {rls!r}")
        self.grants = {role: tuple(privs) for role, privs in sorted(grants.items())}
        self.rls = rls
        if not set(audit_operations) <= set(AUDIT_OPERATIONS) or not audit_operations:
            raise ValueError(f"audit_operations must be a non-empty subset of {AUDIT_OPERATIONS}")
        self.audit = audit
        self.audit_operations = tuple(o for o in AUDIT_OPERATIONS if o in audit_operations)
        self.redact = tuple(redact)
        self.versioned = versioned
        self.touch = touch
        self.append_only = append_only
        self.predicate = predicate
        super().__init__(name=name)

    def _statements(self, table: str) -> list[str]:
        stmts = [f"REVOKE ALL ON {table} FROM PUBLIC"]
        stmts += [
            f"GRANT {', '.join(privs)} ON {table} TO {role}" for role, privs in self.grants.items()
        ]
        if self.rls:
            stmts += [
                f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            ]
        if self.rls == RLS_TENANT:
            stmts.append(
                f"CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
                f"USING ({self.predicate}) WITH CHECK ({self.predicate})"
            )
            stmts.append(
                f"CREATE TRIGGER {self.name}_tenant_immutable BEFORE UPDATE OF tenant_id ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kernel.refuse_tenant_change()"
            )
        elif self.rls == RLS_AUDIT_LOG:
            stmts += [
                f"CREATE POLICY tenant_read ON {table} AS PERMISSIVE FOR SELECT TO PUBLIC "
                f"USING ({self.predicate})",
                # Only kernel.audit_capture (SECURITY DEFINER, owned by the owner) inserts: the
                # runtime roles have no INSERT privilege on the table.
                f"CREATE POLICY append ON {table} AS PERMISSIVE FOR INSERT TO PUBLIC "
                "WITH CHECK (true)",
            ]
        if self.touch:
            stmts.append(
                f"CREATE TRIGGER {self.name}_touch BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kernel.touch_row()"
            )
        if self.versioned:
            stmts.append(
                f"CREATE TRIGGER {self.name}_version BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kernel.bump_version()"
            )
        if self.append_only:
            stmts.append(
                f"CREATE TRIGGER {self.name}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION kernel.refuse_change()"
            )
        if self.audit is not None:
            args = ", ".join(f"'{a}'" for a in (self.audit, *self.redact))
            stmts.append(
                f"CREATE TRIGGER {self.name}_audit AFTER {' OR '.join(self.audit_operations)} "
                f"ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION kernel.audit_capture({args})"
            )
        return stmts

    def create_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        return ";\n".join(self._statements(quoted_table(model._meta.db_table)))

    def remove_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        table = quoted_table(model._meta.db_table)
        stmts = [
            f"DROP TRIGGER IF EXISTS {self.name}_{suffix} ON {table}"
            for suffix in ("audit", "append_only", "version", "touch", "tenant_immutable")
        ]
        stmts += [
            f"DROP POLICY IF EXISTS {p} ON {table}"
            for p in ("tenant_isolation", "tenant_read", "append")
        ]
        if self.rls:
            stmts += [
                f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
                f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
            ]
        stmts += [f"REVOKE ALL ON {table} FROM {role}" for role in self.grants]
        return ";\n".join(stmts)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs.update(
            grants={role: list(privs) for role, privs in self.grants.items()},
            rls=self.rls,
            audit=self.audit,
        )
        if self.rls is not None:
            kwargs["predicate"] = self.predicate
        for attr, default in (
            ("audit_operations", AUDIT_OPERATIONS),
            ("redact", ()),
            ("versioned", False),
            ("touch", True),
            ("append_only", False),
        ):
            if getattr(self, attr) != default:
                value = getattr(self, attr)
                kwargs[attr] = list(value) if isinstance(value, tuple) else value
        return path, args, kwargs


class TenantForeignKey(_DeferredDdlConstraint):
    """``(tenant_id, <column>) REFERENCES <target> (tenant_id, id)``.

    The Django ``ForeignKey`` beside it is declared with ``db_constraint=False``, so this is the
    only foreign key: pointing at another tenant's row fails with exactly the same error as
    pointing at a row that does not exist (no existence oracle). Referential checks bypass RLS,
    which is why the tenant must be part of the key.
    """

    def __init__(
        self,
        *,
        name: str,
        column: str,
        to: str,
        on_delete: str = "RESTRICT",
        also: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``also``: further (column, target column) pairs the key must match, e.g. a copied
        requester that must equal the target's ``requested_by`` (the target needs a unique key
        on ``(tenant_id, id, <target column>...)``)."""
        if on_delete not in ("RESTRICT", "CASCADE", "NO ACTION"):
            raise ValueError(f"unsupported on_delete {on_delete!r}")
        self.column = column
        self.to = to
        self.on_delete = on_delete
        self.also = tuple(tuple(pair) for pair in also)
        super().__init__(name=name)

    def _target_table(self, model: type[Model]) -> str:
        app_label, model_name = self.to.split(".")
        target = model._meta.apps.get_model(app_label, model_name)
        return quoted_table(target._meta.db_table)

    def create_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        columns = ", ".join(["tenant_id", self.column, *(c for c, _ in self.also)])
        targets = ", ".join(["tenant_id", "id", *(t for _, t in self.also)])
        return (
            f"ALTER TABLE {quoted_table(model._meta.db_table)} ADD CONSTRAINT {self.name} "
            f"FOREIGN KEY ({columns}) REFERENCES {self._target_table(model)} "
            f"({targets}) ON DELETE {self.on_delete}"
        )

    def remove_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        return f"ALTER TABLE {quoted_table(model._meta.db_table)} DROP CONSTRAINT IF EXISTS {self.name}"

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs.update(column=self.column, to=self.to)
        if self.on_delete != "RESTRICT":
            kwargs["on_delete"] = self.on_delete
        if self.also:
            kwargs["also"] = [list(pair) for pair in self.also]
        return path, args, kwargs


class TenantRegistryKey(_DeferredDdlConstraint):
    """``tenant_id REFERENCES kernel.tenants (id)`` for kernel tables (same schema only)."""

    def create_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        return (
            f"ALTER TABLE {quoted_table(model._meta.db_table)} ADD CONSTRAINT {self.name} "
            'FOREIGN KEY (tenant_id) REFERENCES "kernel"."tenants" (id) ON DELETE RESTRICT'
        )

    def remove_sql(self, model: type[Model] | None, schema_editor: Any) -> str:
        assert model is not None
        return f"ALTER TABLE {quoted_table(model._meta.db_table)} DROP CONSTRAINT IF EXISTS {self.name}"
