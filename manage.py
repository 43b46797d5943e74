#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Loads aibos/settings.py: a missing or invalid setting is one line saying what to set,
        # not a traceback.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: configuration error: {exc}")
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # The server cannot be reached, or the database in DATABASE_URL does not exist yet: one
        # line saying so. Any other database error keeps its traceback.
        if not str(exc).startswith("connection failed"):
            raise
        reason = str(exc).splitlines()[0].rsplit("FATAL:", 1)[-1].strip()
        sys.exit(
            f"manage.py: cannot connect to PostgreSQL: {reason}. Check DATABASE_URL (create the "
            "database first, e.g. `createdb <name>`), or unset it to use the embedded server."
        )


if __name__ == "__main__":
    main()
