"""Provider detection: a table of real-shaped URLs (URL stage, no network), probe results that
refine or overturn the URL, and this machine's servers (direct and through PgBouncer)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from config.providers.detect import (
    DIRECT,
    PROXY,
    READER,
    SESSION,
    TRANSACTION,
    UNKNOWN,
    ProbeResults,
    detect,
)
from config.providers.probes import run_probes
from tests.security.test_pgbouncer import pgbouncer  # noqa: F401 - the fixture, reused

# (url, provider, variant). Hosts follow the shapes in guardian-anchors.md §7; references,
# hashes and regions are made up.
URL_TABLE = [
    (
        "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres",
        "supabase",
        DIRECT,
    ),
    (
        "postgresql://postgres@db.abcdefghijklmnopqrst.supabase.co:6543/postgres",
        "supabase",
        TRANSACTION,
    ),
    (
        "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-us-east-1.pooler.supabase.com:5432/postgres",
        "supabase",
        SESSION,
    ),
    (
        "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        "supabase",
        TRANSACTION,
    ),
    (
        "postgres://postgres.zyxwvutsrqponmlkjihg@aws-1-ap-southeast-1.pooler.supabase.com:6543/postgres?sslmode=require",
        "supabase",
        TRANSACTION,
    ),
    (
        "postgresql://alex:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require",
        "neon",
        DIRECT,
    ),
    (
        "postgresql://alex:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require",
        "neon",
        TRANSACTION,
    ),
    ("postgresql://app@ep-long-frog-a1b2c3d4.eu-central-1.aws.neon.tech:5432/app", "neon", DIRECT),
    (
        "postgresql://app@ep-long-frog-a1b2c3d4-pooler.ap-southeast-1.aws.neon.tech/app",
        "neon",
        TRANSACTION,
    ),
    ("postgresql://app@ep-x-1.eastus2.azure.neon.tech/app", "neon", DIRECT),
    (
        "postgresql://admin:pw@mydb.c9akciq32.us-east-1.rds.amazonaws.com:5432/app",
        "aws-rds",
        DIRECT,
    ),
    (
        "postgresql://admin@orders-prod.cxyz123abc.eu-west-1.rds.amazonaws.com/orders",
        "aws-rds",
        DIRECT,
    ),
    ("postgresql://admin@db1.abcdefghij.cn-north-1.rds.amazonaws.com.cn/app", "aws-rds", DIRECT),
    (
        "postgresql://admin@ledger.cluster-c9akciq32.us-east-1.rds.amazonaws.com:5432/app",
        "aws-aurora",
        DIRECT,
    ),
    (
        "postgresql://admin@ledger.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com:5432/app",
        "aws-aurora",
        READER,
    ),
    (
        "postgresql://admin@ledger.cluster-custom-c9akciq32.us-east-1.rds.amazonaws.com/app",
        "aws-aurora",
        UNKNOWN,
    ),
    (
        "postgresql://admin@reports.cluster-ro-abc123.ap-southeast-2.rds.amazonaws.com/app",
        "aws-aurora",
        READER,
    ),
    (
        "postgresql://app@ledger-proxy.proxy-c9akciq32.us-east-1.rds.amazonaws.com:5432/app",
        "aws-rds",
        PROXY,
    ),
    (
        "postgresql://app:pw@fabric.postgres.database.azure.com:5432/postgres?sslmode=require",
        "azure-flexible",
        DIRECT,
    ),
    (
        "postgresql://app:pw@fabric.postgres.database.azure.com:6432/postgres?sslmode=require",
        "azure-flexible",
        TRANSACTION,
    ),
    (
        "postgresql://app%40fabric:pw@fabric.postgres.database.azure.com:5432/postgres",
        "azure-flexible",
        DIRECT,
    ),
    ("postgresql://app@/app?host=/cloudsql/my-project:us-central1:ledger", "cloud-sql", PROXY),
    ("postgresql://app@ledger.us-central1.sql.goog:5432/app", "cloud-sql", DIRECT),
    ("postgresql://postgres@127.0.0.1:5432/app", "self-hosted", UNKNOWN),
    ("postgresql://postgres@localhost/app", "self-hosted", UNKNOWN),
    ("postgresql://postgres@/app?host=/var/run/postgresql", "self-hosted", UNKNOWN),
    ("postgresql://app@postgres.db.svc.cluster.local:5432/app", "self-hosted", UNKNOWN),
    ("postgresql://app@pg-primary.default.svc:5432/app", "self-hosted", UNKNOWN),
    ("postgresql://app@127.0.0.1:6432/app", "self-hosted", UNKNOWN),
    # No shape: Cloud SQL and RDS are often reached by IP; the URL alone says nothing.
    ("postgresql://app@10.20.0.5:5432/app", UNKNOWN, UNKNOWN),
    ("postgresql://app@192.168.1.20:6432/app", UNKNOWN, UNKNOWN),
    ("postgresql://app@34.122.10.7:5432/app", UNKNOWN, UNKNOWN),
    ("postgresql://app@db.example.com:5432/app", UNKNOWN, UNKNOWN),
    ("postgresql://app@supabase.co.evil.example:5432/app", UNKNOWN, UNKNOWN),
]


def test_the_url_table_has_at_least_30_real_shaped_urls() -> None:
    assert len(URL_TABLE) >= 30
    assert {p for _, p, _ in URL_TABLE} >= {
        "supabase",
        "neon",
        "aws-rds",
        "aws-aurora",
        "azure-flexible",
        "cloud-sql",
        "self-hosted",
        UNKNOWN,
    }


@pytest.mark.parametrize(("url", "provider", "variant"), URL_TABLE)
def test_url_stage(url: str, provider: str, variant: str) -> None:
    d = detect(url)
    assert (d.provider, d.variant) == (provider, variant), d
    assert d.evidence, "every answer carries its evidence"
    if provider == UNKNOWN:
        assert d.confidence == 0.0
    elif provider == "self-hosted":
        assert d.confidence <= 0.6  # circumstantial: a local proxy looks the same
    else:
        assert d.confidence >= 0.6


def test_unknown_says_what_it_saw() -> None:
    d = detect("postgresql://app@34.122.10.7:5432/app")
    assert d.provider == UNKNOWN
    assert d.evidence[0].observed == "34.122.10.7"
    assert "public IP" in d.evidence[0].meaning


def test_password_never_appears_in_output() -> None:
    out = io.StringIO()
    call_command(
        "provider_detect",
        "--url",
        "postgresql://u:s3cret@db.abcdefghijklmnopqrst.supabase.co/x",
        stdout=out,
    )
    assert "s3cret" not in out.getvalue()
    assert json.loads(out.getvalue())["provider"] == "supabase"


def test_a_non_postgres_url_is_refused() -> None:
    with pytest.raises(CommandError, match="not a postgres"):
        call_command("provider_detect", "--url", "mysql://u@h/x", stdout=io.StringIO())


def test_probes_name_a_provider_behind_a_bare_ip() -> None:
    d = detect(
        "postgresql://app@10.20.0.5:5432/app",
        ProbeResults(
            roles=frozenset({"cloudsqlsuperuser"}),
            settings=frozenset({"cloudsql.iam_authentication"}),
        ),
    )
    assert (d.provider, d.confidence) == ("cloud-sql", 0.95)
    assert {e.signal for e in d.evidence} >= {"role", "setting"}


def test_aurora_function_refines_an_rds_shaped_host() -> None:
    url = "postgresql://admin@ledger-1.c9akciq32.us-east-1.rds.amazonaws.com/app"
    d = detect(
        url,
        ProbeResults(roles=frozenset({"rds_superuser"}), functions=frozenset({"aurora_version"})),
    )
    assert d.provider == "aws-aurora" and d.confidence >= 0.97


def test_two_stages_agreeing_raise_confidence() -> None:
    url = "postgresql://postgres@db.abcdefghijklmnopqrst.supabase.co/postgres"
    assert detect(url).confidence == 0.9
    assert detect(url, ProbeResults(roles=frozenset({"supabase_admin"}))).confidence == 0.97


def test_contradicting_unique_signals_give_unknown() -> None:
    d = detect(
        "postgresql://app@10.0.0.1/app",
        ProbeResults(roles=frozenset({"rds_superuser", "azure_pg_admin"})),
    )
    assert d.provider == UNKNOWN and d.confidence == 0.0
    assert {e.provider for e in d.evidence} >= {"aws-rds", "azure-flexible"}


def test_behaviour_decides_the_pool_mode_on_a_bare_port() -> None:
    url = "postgresql://app@127.0.0.1:6432/app"
    pooled = detect(
        url, ProbeResults(server_port=5432, pooled_by_behaviour=True, behaviour_note="pid changed")
    )
    session = detect(
        url, ProbeResults(server_port=5432, pooled_by_behaviour=False, behaviour_note="pid kept")
    )
    assert (pooled.provider, pooled.variant) == ("self-hosted", TRANSACTION)
    assert (session.provider, session.variant) == ("self-hosted", SESSION)


@pytest.mark.django_db(databases="__all__")
def test_this_machine_direct_is_self_hosted() -> None:
    out = io.StringIO()
    call_command("provider_detect", "--database", "config", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["provider"], result["variant"]) == ("self-hosted", DIRECT), result
    assert result["confidence"] == 0.8
    assert any(e["signal"] == "absence" for e in result["evidence"])
    assert any(e["signal"] == "behaviour" for e in result["evidence"])


@pytest.mark.django_db(databases="__all__")
def test_this_machine_through_pgbouncer_is_a_transaction_pooler(
    pgbouncer: dict[str, str | int],  # noqa: F811
) -> None:
    params = {**pgbouncer, "user": "aibos_kernel_role"}
    url = f"postgresql://aibos_kernel_role@127.0.0.1:{pgbouncer['port']}/{pgbouncer['dbname']}"
    probes = run_probes(params)
    assert probes.pooled_by_behaviour is True, probes.behaviour_note
    server = connections["kernel"].settings_dict
    # inet_server_port() is NULL when PgBouncer reaches the server over a Unix socket (embedded).
    expected = None if (server["HOST"] or "").startswith("/") else int(server["PORT"] or 5432)
    assert probes.server_port == expected
    d = detect(url, probes)
    assert (d.provider, d.variant) == ("self-hosted", TRANSACTION), d
