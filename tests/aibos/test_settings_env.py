"""`manage.py` in a fresh clone: development defaults on the embedded database; a deployment
without a secret key is refused in one line, never with a traceback.

Each case runs `manage.py check` in a subprocess. The variables the settings decide on are set
to empty strings unless the case sets them (a developer's .env only fills unset variables). The
embedded case replaces the launcher with a stub so that no PostgreSQL is started: `check` opens
no connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

from django.conf import settings

VARIABLES = ("DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")

# Runs manage.py as `python manage.py check`, with aibos.embedded_postgres stubbed out.
EMBEDDED_STUB = """
import runpy, sys, types
stub = types.ModuleType("aibos.embedded_postgres")
stub.embedded_database_settings = lambda data_dir: {
    "ENGINE": "django.db.backends.postgresql", "NAME": "aibos", "USER": "postgres",
    "PASSWORD": "", "HOST": str(data_dir), "PORT": "",
}
sys.modules["aibos.embedded_postgres"] = stub
sys.argv = ["manage.py", "check"]
runpy.run_path("manage.py", run_name="__main__")
"""


def _manage(env: dict[str, str], *, embedded: bool = False) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    clean.update(dict.fromkeys(VARIABLES, ""))
    args = ["-c", EMBEDDED_STUB] if embedded else ["manage.py", "check"]
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_fresh_clone_on_the_embedded_database_needs_no_variable() -> None:
    result = _manage({}, embedded=True)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_deployment_without_a_secret_key_is_refused_in_one_line() -> None:
    result = _manage({"DATABASE_URL": "postgres://owner@127.0.0.1:1/aibos", "DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "configuration error" in lines[0] and "set DJANGO_SECRET_KEY" in lines[0]


def test_a_deployment_with_a_secret_key_starts() -> None:
    result = _manage(
        {
            "DATABASE_URL": "postgres://owner@127.0.0.1:1/aibos",
            "DJANGO_SECRET_KEY": "a-real-deployment-key",
        }
    )
    assert result.returncode == 0, result.stderr


def test_debug_on_a_deployment_database_uses_the_development_key() -> None:
    result = _manage({"DATABASE_URL": "postgres://owner@127.0.0.1:1/aibos", "DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


def test_a_database_that_does_not_exist_is_one_line_saying_so() -> None:
    """`DATABASE_URL=postgres://…/aibos make run`, as the README shows, before `createdb`."""
    owner = settings.DATABASES["default"]
    if not owner["HOST"].startswith("/"):
        url = f"postgres://{owner['USER']}@{owner['HOST']}:{owner['PORT'] or 5432}/aibos_missing"
    else:  # the embedded server's socket directory, percent-encoded as django-environ reads it
        url = f"postgres://{owner['USER']}@/{quote(owner['HOST'], safe='')}/aibos_missing"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'database "aibos_missing" does not exist' in lines[0]
    assert "createdb" in lines[0]
