"""``manage.py provider_detect [--database ALIAS | --url URL] [--no-probe]``: which provider and
connection variant a database alias (or a URL) reaches, with the evidence."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from config.providers.detect import detect, redact
from config.providers.probes import alias_params, alias_url, run_probes

UNKNOWN_ALIAS = "no database alias {alias!r}; configured: {known}"
PROBE_FAILED = "could not probe {url}: {error}"


class Command(BaseCommand):
    help = (
        "Detect the database provider and connection variant (direct, session pooler, "
        "transaction pooler, proxy, reader) from the URL and SQL probes; prints JSON with the "
        "evidence. 'unknown' when nothing matches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="alias to detect")
        parser.add_argument(
            "--url", help="judge this URL instead of an alias (URL stage only unless --probe)"
        )
        parser.add_argument(
            "--probe", action="store_true", help="with --url: also connect and run the probes"
        )
        parser.add_argument(
            "--no-probe", action="store_true", help="URL stage only: do not connect"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["url"]:
            url = options["url"]
            probe = options["probe"] and not options["no_probe"]
            params: dict[str, Any] = {"conninfo": url}
        else:
            alias = options["database"]
            if alias not in connections.settings:
                raise CommandError(
                    UNKNOWN_ALIAS.format(alias=alias, known=", ".join(sorted(connections.settings)))
                )
            settings_dict = connections.settings[alias]
            url = alias_url(settings_dict)
            params = alias_params(settings_dict)
            probe = not options["no_probe"]
        try:
            probes = run_probes(params) if probe else None
            detection = detect(url, probes)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # any connection failure: say which URL, never a traceback
            raise CommandError(PROBE_FAILED.format(url=redact(url), error=exc)) from exc
        self.stdout.write(json.dumps({"url": redact(url), **detection.as_dict()}, indent=2))
