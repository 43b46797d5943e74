"""``manage.py provider_recommend --manifest tenant.yaml [--format text|json] [--profiles FILE]``:
rank providers for a tenant requirements manifest, with every reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.providers.manifest import ManifestError, manifest_from_file
from config.providers.profiles import ProfileDataError, profiles_from_db, profiles_from_file
from config.providers.selection import as_dict, recommend, render_text

NO_PROFILES = (
    "config.provider_profiles is empty: run `manage.py migrate` (or pass --profiles with a "
    "release file)"
)


class Command(BaseCommand):
    help = (
        "Rank database providers for a tenant requirements manifest (YAML): hard filters first, "
        "then a weighted score; prints every component and every exclusion reason. Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest", required=True, type=Path, help="tenant manifest (YAML)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--profiles",
            type=Path,
            help="a profile release file instead of config.provider_profiles (the database)",
        )
        parser.add_argument("--database", default="config", help="alias to read profiles from")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = manifest_from_file(options["manifest"])
            if options["profiles"]:
                profiles = profiles_from_file(options["profiles"])
            else:
                profiles = profiles_from_db(using=options["database"])
        except (ManifestError, ProfileDataError) as exc:
            raise CommandError(str(exc)) from exc
        if not profiles:
            raise CommandError(NO_PROFILES)
        rec = recommend(manifest, profiles)
        if options["format"] == "json":
            self.stdout.write(json.dumps(as_dict(rec), indent=2))
        else:
            self.stdout.write(render_text(rec), ending="")
