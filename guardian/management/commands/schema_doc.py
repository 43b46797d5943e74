"""``manage.py schema_doc --out docs/schema/ [--check] [--database ALIAS]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from guardian.runner import findings_by_table
from guardian.schema_doc.build import FindingsSource, compare, generate, write

STALE = (
    "The schema document is stale: {files}. Regenerate it from a freshly migrated database "
    "with `make schema-doc` and commit the result."
)


class Command(BaseCommand):
    help = (
        "Write the schema document (Markdown, Mermaid, Graphviz) from the live database; with "
        "--check, exit non-zero listing the files that differ instead of writing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="docs/schema/", help="output directory")
        parser.add_argument(
            "--check", action="store_true", help="compare with --out, write nothing"
        )
        parser.add_argument(
            "--database",
            default="default",
            help="alias to read (default: the owner; any role that can connect works)",
        )
        parser.add_argument(
            "--no-svg", action="store_true", help="skip the Graphviz SVG even if dot is installed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.run(findings_source=findings_by_table, **options)

    def run(self, *, findings_source: FindingsSource, **options: Any) -> None:
        out = Path(options["out"])
        documents = generate(
            connections[options["database"]],
            findings_source=findings_source,
            svg=not options["no_svg"],
        )
        if options["check"]:
            comparison = compare(documents, out)
            for note in comparison.notes:
                self.stderr.write(f"note: {note}")
            if not comparison.up_to_date:
                files = [str(out / n) for n in comparison.stale] + [
                    f"{out / n} (no longer generated)" for n in comparison.extra
                ]
                raise CommandError(STALE.format(files=", ".join(files)))
            self.stdout.write(f"{out}: up to date ({len(documents)} files)")
            return
        changed = write(documents, out)
        self.stdout.write(
            f"{out}: {len(documents)} files, "
            + (f"{len(changed)} changed: {', '.join(changed)}" if changed else "unchanged")
        )
