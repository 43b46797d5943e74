"""``python -m guardian.schema_doc.fresh URL``: drop and re-create the database of URL.

The schema document describes what migrations produce, so ``make schema-doc`` generates it
from a database created just before ``migrate``. Only names ending in ``_schemadoc`` are
accepted: this drops a database and must never be pointed at a real one by a typo.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

SUFFIX = "_schemadoc"


def recreate(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.endswith(SUFFIX):
        raise SystemExit(f"refusing to drop {name!r}: the schema-doc database must end in {SUFFIX}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"re-created {recreate(sys.argv[1])}")
