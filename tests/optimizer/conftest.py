"""The 300k-row fixture table, built once for this package, and the HypoPG requirement.

The table lives in a schema of its own (not a governed one: the catalog tests would count it)
and is dropped when the package's tests end. The finance role may read it, as it reads finance
tables: what-ifs run as that role.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connections

from bench.optimizer_workload import BUILD, SCHEMA
from optimizer.whatif import hypopg_status

FIXTURE_ALIASES = {SCHEMA: "finance"}


@pytest.fixture(scope="package")
def orders_table(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        with connections["default"].cursor() as cur:
            cur.execute(BUILD)
            cur.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO aibos_finance_role")
            # As on finance tables: the what-if of the UPDATE in the workload needs the privilege.
            cur.execute(
                f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA {SCHEMA} TO aibos_finance_role"
            )
    yield SCHEMA
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        with connections["default"].cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture
def hypopg(orders_table: str) -> None:
    """HypoPG must be there to prove an index. CI installs it and sets AIBOS_REQUIRE_HYPOPG=1,
    which turns a missing extension into a failure instead of a skip."""
    status = hypopg_status("finance")
    if not status.usable:
        if os.environ.get("AIBOS_REQUIRE_HYPOPG"):
            pytest.fail(f"HypoPG is required (AIBOS_REQUIRE_HYPOPG=1): {status.message}")
        pytest.skip(status.message)
