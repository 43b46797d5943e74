"""``migrate`` with the Schema Guardian in front: the plan is checked before anything runs, and
a finding at *block* (or an unacknowledged *warn*) stops it with nothing applied."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from guardian.config import ConfigError
from guardian.reporting import to_text
from guardian.runner import run_migrations

ERR_STOPPED = (
    "Schema Guardian stopped the migration: {n} finding(s) above. Nothing was applied. "
    "Fix them, add them to the baseline with a reason, or acknowledge warnings with "
    "--guardian-ack ID."
)


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
        if not (options.get("plan") or options.get("check_unapplied") or options.get("fake")):
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
