"""Where the code declares the SQL functions it relies on (besides pgtrigger's guard functions).

Each entry is the dotted path of a module-level string of ``CREATE OR REPLACE FUNCTION``
statements (with their grants): the *current* declaration. Migrations never import these; each
deploys a frozen copy. ``tests/aibos/test_sql_functions.py`` runs the declarations in a rolled-back
transaction and compares what PostgreSQL makes of them (``pg_get_functiondef`` and the grants)
with what the migrations deployed, so a function edited here without a migration fails CI, and so
does a function in a governed schema that no code declares.
"""

from __future__ import annotations

import re

from django.utils.module_loading import import_string

# By path, not imported: aibos.db is plumbing the apps import; the apps' SQL is theirs.
DECLARATIONS = (
    "aibos.db.bootstrap.FUNCTIONS_SQL",
    "kernel.sql.APPROVAL_GRANT_FUNCTIONS_SQL",
    "finance.currencies.CURRENCY_EXPONENT_SQL",
    "finance.sql.POSTING_FUNCTIONS_SQL",
)

_CREATE_FUNCTION = re.compile(
    r"CREATE\s+OR\s+REPLACE\s+FUNCTION\s+\"?(\w+)\"?\.\"?(\w+)\"?\s*\(", re.IGNORECASE
)


def declared_sql() -> dict[str, str]:
    """Dotted path -> SQL, for every declaration."""
    return {path: import_string(path) for path in DECLARATIONS}


def declared_names(sql: str) -> list[str]:
    """``schema.name`` of every function the SQL creates or replaces."""
    return [f"{schema}.{name}" for schema, name in _CREATE_FUNCTION.findall(sql)]
