"""System checks: the runtime connections must stay least-privilege and pooler-safe.

`manage.py check` runs the configuration checks; `manage.py check --database kernel` (or any
alias) also asks the server whether the connected role is a superuser or bypasses RLS.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections

from aibos.db.roles import RUNTIME_ALIASES, SERVICE_ALIASES

# Every alias that connects as a platform role: the runtime ones and the service ones (monitor,
# sealer, readonly) are held to the same rules.
LEAST_PRIVILEGE_ALIASES = {**RUNTIME_ALIASES, **SERVICE_ALIASES}


@register(Tags.database)
def check_runtime_connections(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[Error]:
    errors: list[Error] = []
    owner = settings.DATABASES["default"].get("USER")
    for alias, role in LEAST_PRIVILEGE_ALIASES.items():
        db = settings.DATABASES.get(alias)
        if db is None:
            errors.append(Error(f"DATABASES has no {alias!r} alias.", id="aibos.E001"))
            continue
        if db.get("USER") != role:
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] connects as {db.get('USER')!r}; it must be {role!r}.",
                    hint="Runtime aliases use their own least-privilege login role, never the owner.",
                    id="aibos.E002",
                )
            )
        if db.get("USER") == owner:
            errors.append(Error(f"DATABASES[{alias!r}] uses the owner role.", id="aibos.E003"))
        options = db.get("OPTIONS", {})
        if "assume_role" in options or "search_path" in str(options.get("options", "")):
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] sets session state at connect (assume_role / options).",
                    hint="Session-level settings leak between clients behind PgBouncer in transaction mode.",
                    id="aibos.E004",
                )
            )
        if not db.get("DISABLE_SERVER_SIDE_CURSORS"):
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] allows server-side cursors.",
                    hint="They do not survive PgBouncer transaction pooling; set DISABLE_SERVER_SIDE_CURSORS.",
                    id="aibos.E005",
                )
            )
    for alias in databases or ():
        if alias not in LEAST_PRIVILEGE_ALIASES:
            continue
        with connections[alias].cursor() as cur:
            cur.execute(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            (unsafe,) = cur.fetchone()
        if unsafe:
            errors.append(
                Error(
                    f"The {alias!r} connection's role is a superuser or has BYPASSRLS.",
                    hint="Row-level security would not apply to it; run `migrate` to re-assert the role.",
                    id="aibos.E006",
                )
            )
    return errors
