"""Migration operations the guardian's fixes are written in: safe *and* idempotent.

Django's ``AddIndexConcurrently`` emits a bare ``CREATE INDEX CONCURRENTLY``: when a
``lock_timeout`` cancels the build it leaves an INVALID index behind, and every retry then
fails with "already exists" (PostHog/posthog#59096). These versions can run twice, and after a
failed run, without error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db.migrations.state import ProjectState

DEFAULT_LOCK_TIMEOUT = "5s"


def _drop_invalid_index(schema_editor: Any, name: str) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT n.nspname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND NOT i.indisvalid",
            [name],
        )
        row = cur.fetchone()
    if row:
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(row[0])}."
            f"{schema_editor.quote_name(name)}"
        )


class AddIndexConcurrentlyIfNotExists(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` under a ``lock_timeout``, after dropping an
    INVALID leftover of the same name. Needs ``atomic = False`` on the migration."""

    def __init__(
        self, model_name: str, index: Any, lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        super().__init__(model_name, index)
        self.lock_timeout = lock_timeout

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        name, args, kwargs = super().deconstruct()
        if self.lock_timeout != DEFAULT_LOCK_TIMEOUT:
            kwargs["lock_timeout"] = self.lock_timeout
        return name, args, kwargs

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql:
            _drop_invalid_index(schema_editor, self.index.name)
        sql = str(self.index.create_sql(model, schema_editor, concurrently=True))
        sql = sql.replace("INDEX CONCURRENTLY", "INDEX CONCURRENTLY IF NOT EXISTS", 1)
        schema_editor.execute(f"SET lock_timeout = '{self.lock_timeout}'")
        try:
            schema_editor.execute(sql)
        finally:
            schema_editor.execute("RESET lock_timeout")

    def describe(self) -> str:
        return super().describe() + " (if not exists)"


class AddConstraintNotValidIfNotExists(AddConstraintNotValid):
    """``ADD CONSTRAINT … NOT VALID`` that is a no-op when the constraint already exists;
    follow it with ``ValidateConstraint`` (which is idempotent) in a later migration."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        # AddConstraint's attributes; the stubs do not declare them.
        model_name: str = self.model_name  # type: ignore[attr-defined]
        constraint: Any = self.constraint  # type: ignore[attr-defined]
        model = from_state.apps.get_model(app_label, model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql:
            with schema_editor.connection.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
                    [schema_editor.quote_name(model._meta.db_table), constraint.name],
                )
                if cur.fetchone():
                    return
        super().database_forwards(app_label, schema_editor, from_state, to_state)
