"""The platform's ``migrate``: Django's, with three things in front of it.

- The connection: never through a transaction-mode pooler (detected from the URL and the
  server's behaviour; ``AIBOS_MIGRATION_DATABASE_URL`` names the direct endpoint), and every
  connection it opens carries ``lock_timeout`` and ``statement_timeout`` (docs/providers.md).
- The Schema Guardian: the plan is checked before anything runs, and a finding at *block* (or an
  unacknowledged *warn*) stops it with nothing applied (docs/guardian.md).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DatabaseError, connections
from django.db.backends.signals import connection_created
from django.db.migrations.executor import MigrationExecutor

from config.providers.migration import (
    PooledMigrationError,
    check_migration_connection,
    session_statements,
)
from config.providers.probes import alias_params, alias_url
from guardian.config import ConfigError
from guardian.reporting import to_text
from guardian.runner import run_migrations

ERR_STOPPED = (
    "Schema Guardian stopped the migration: {n} finding(s) above. Nothing was applied. "
    "Fix them, add them to the baseline with a reason, or acknowledge warnings with "
    "--guardian-ack ID."
)


PROBE_FAILED = (
    "migrate could not tell whether its connection goes through a pooler ({error}); if "
    "DATABASE_URL is pooled, set AIBOS_MIGRATION_DATABASE_URL to the direct endpoint.\n"
)


@contextmanager
def _migration_connection(connection: Any, *, check_pooler: bool) -> Iterator[None]:
    """Point the owner alias at AIBOS_MIGRATION_DATABASE_URL when set, refuse a transaction
    pooler, and SET the timeouts on every connection opened meanwhile."""
    original = dict(connection.settings_dict)
    if connection.alias == "default" and settings.MIGRATION_DATABASE:
        connection.close()
        connection.settings_dict.update(settings.MIGRATION_DATABASE)
    statements = session_statements(
        settings.MIGRATION_LOCK_TIMEOUT, settings.MIGRATION_STATEMENT_TIMEOUT
    )

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection is target:
            with connection.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)

    target = connection
    try:
        if check_pooler:
            try:
                check_migration_connection(
                    alias_url(connection.settings_dict), alias_params(connection.settings_dict)
                )
            except PooledMigrationError as exc:
                raise CommandError(str(exc)) from exc
            except psycopg.OperationalError:
                # The server cannot be reached (or the database does not exist): Django's own
                # connection attempt below says so in its one line.
                pass
            except psycopg.Error as exc:
                # The probe itself failed (a pooler that starves its second client, a server
                # that allows one connection): say so, and let a direct migration run.
                sys.stderr.write(PROBE_FAILED.format(error=str(exc).splitlines()[0][:200]))
        connection_created.connect(on_connect, weak=False)
        if connection.connection is not None:
            on_connect(None, connection)
        yield
    finally:
        connection_created.disconnect(on_connect)
        if connection.connection is not None and not connection.in_atomic_block:
            try:
                with connection.cursor() as cur:
                    cur.execute("RESET lock_timeout")
                    cur.execute("RESET statement_timeout")
            except DatabaseError:
                pass  # a broken connection: it is closed below or by Django; keep the real error
        if connection.settings_dict != original:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " The Schema Guardian checks the plan first (docs/guardian.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--guardian-ack",
            action="append",
            default=[],
            metavar="FINDING_ID[,FINDING_ID…]",
            help="acknowledge guardian warnings by id (comma-separated, or repeat the flag)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # --plan and --check only report; --fake records without running SQL.
        reports_only = options.get("plan") or options.get("check_unapplied") or options.get("fake")
        connection = connections[options["database"]]
        with _migration_connection(connection, check_pooler=not reports_only):
            if not reports_only:
                self._guard(options)
            super().handle(*args, **options)

    def _guard(self, options: dict[str, Any]) -> None:
        connection = connections[options["database"]]
        connection.prepare_database()
        executor = MigrationExecutor(connection)
        targets = self._targets(executor, options)
        if targets is None:
            return  # a migration name Django cannot resolve: it refuses with its own message
        plan = executor.migration_plan(targets)
        if not plan or any(backwards for _, backwards in plan):
            # Nothing to do, or unapplying: the rules judge forward plans.
            return
        state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
        try:
            run = run_migrations(
                database=options["database"],
                migrations=([m for m, _ in plan], state),
                acknowledged=options["guardian_ack"],
            )
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        stopping = run.verdict.stopping
        if stopping or options["verbosity"] >= 2:
            self.stdout.write(to_text(run))
        elif options["verbosity"] >= 1:
            self.stdout.write(to_text(run).splitlines()[-1])
        if stopping:
            raise CommandError(ERR_STOPPED.format(n=len(stopping)))

    @staticmethod
    def _targets(
        executor: MigrationExecutor, options: dict[str, Any]
    ) -> list[tuple[str, str | None]]:
        """The same targets Django's migrate resolves from app_label / migration_name."""
        app_label, name = options.get("app_label"), options.get("migration_name")
        graph = executor.loader.graph
        if app_label and name:
            if name == "zero":
                return [(app_label, None)]
            try:
                migration = executor.loader.get_migration_by_prefix(app_label, name)
            except (KeyError, Exception) as exc:
                raise CommandError(str(exc)) from exc
            return [(app_label, migration.name)]
        if app_label:
            return [key for key in graph.leaf_nodes() if key[0] == app_label]
        return list(graph.leaf_nodes())
