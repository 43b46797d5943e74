"""`migrate` refuses a transaction-mode pooler, names the direct endpoint when it can, and runs
with lock and statement timeouts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

from config.providers.migration import direct_url, session_statements
from tests.security.test_pgbouncer import pgbouncer  # noqa: F401 - the fixture, reused

REF = "abcdefghijklmnopqrst"


@pytest.mark.parametrize(
    ("pooled", "direct"),
    [
        (
            f"postgresql://postgres.{REF}:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
            f"postgresql://postgres:pw@db.{REF}.supabase.co:5432/postgres",
        ),
        (
            "postgresql://app:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require",
            "postgresql://app:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb?sslmode=require",
        ),
        (
            "postgresql://app@srv.postgres.database.azure.com:6432/db",
            "postgresql://app@srv.postgres.database.azure.com:5432/db",
        ),
        ("postgresql://app@127.0.0.1:6432/db", None),  # a self-hosted PgBouncer: no telling
        ("postgresql://app@proxy-1.proxy-abc.us-east-1.rds.amazonaws.com:5432/db", None),
    ],
)
def test_the_direct_endpoint_is_derived_only_from_shapes_that_give_it_away(
    pooled: str, direct: str | None
) -> None:
    assert direct_url(pooled) == direct


def test_durations_are_checked_before_they_reach_sql() -> None:
    assert session_statements("10s", "1h") == [
        "SET lock_timeout = '10s'",
        "SET statement_timeout = '1h'",
    ]
    with pytest.raises(ValueError, match="not a PostgreSQL duration"):
        session_statements("10s'; DROP TABLE x; --", "1h")


def test_migrate_through_pgbouncer_in_transaction_mode_is_refused(
    transactional_db: None,
    pgbouncer: dict[str, str | int],  # noqa: F811
) -> None:
    # The owner's migration URL pointed at the pooler (the pooler's auth file knows the kernel role).
    through_pooler = {
        "HOST": str(pgbouncer["host"]),
        "PORT": str(pgbouncer["port"]),
        "USER": "aibos_kernel_role",
        "PASSWORD": "",
        "NAME": str(pgbouncer["dbname"]),
    }
    before = dict(connections["default"].settings_dict)
    with override_settings(MIGRATION_DATABASE=through_pooler):
        with pytest.raises(CommandError) as refused:
            call_command("migrate", stdout=StringIO())
    message = str(refused.value)
    assert "refuses to run through a transaction-mode pooler" in message
    assert "transaction pooler" in message and "backend pid" in message
    assert "cannot be derived" in message and "AIBOS_MIGRATION_DATABASE_URL" in message
    # The owner alias is as it was.
    assert connections["default"].settings_dict == before


def test_migrate_sets_the_timeouts_on_its_connection_and_resets_them(
    transactional_db: None,
) -> None:
    seen: list[tuple[str, str]] = []

    from django.db.models.signals import pre_migrate

    def record(**kwargs: object) -> None:
        with connections["default"].cursor() as cur:
            cur.execute(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
            )
            seen.append(cur.fetchone())

    pre_migrate.connect(record, weak=False, dispatch_uid="test-timeouts")
    try:
        with override_settings(MIGRATION_LOCK_TIMEOUT="7s", MIGRATION_STATEMENT_TIMEOUT="42min"):
            call_command("migrate", stdout=StringIO(), verbosity=0)
    finally:
        pre_migrate.disconnect(dispatch_uid="test-timeouts")
    assert seen and set(seen) == {("7s", "42min")}
    with connections["default"].cursor() as cur:
        cur.execute("SELECT current_setting('lock_timeout')")
        assert cur.fetchone() == ("0",)


def test_an_ipv6_owner_host_makes_a_url_the_detection_reads() -> None:
    from config.providers.detect import parse_url
    from config.providers.probes import alias_url

    url = alias_url({"HOST": "::1", "PORT": 5433, "USER": "owner", "NAME": "aibos"})
    assert url == "postgresql://owner@[::1]:5433/aibos"
    assert parse_url(url).host == "::1"
