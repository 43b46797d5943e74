"""Provider profiles: the data migration deploys the release file exactly, idempotently; every
fact is dated and sourced; stale facts warn; runtime roles cannot write the table."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from types import SimpleNamespace

import pytest
from django.db import ProgrammingError, connections, transaction
from django.test import override_settings

from config.checks import provider_profiles_fresh
from config.models import ProviderProfile
from config.providers.profiles import (
    PROFILES_DIR,
    REQUIRED_FIELDS,
    profiles_from_db,
    profiles_from_file,
    stale_facts,
)

MIGRATION = importlib.import_module("config.migrations.0003_provider_profiles_2026_12_04")
RELEASE_FILE = PROFILES_DIR / "2026-12-04.json"
# The seeds' providers plus the issue's list: Supabase, Neon, RDS, Aurora, Azure Flexible
# Server, Cloud SQL, self-hosted.
PROVIDERS = {
    "supabase",
    "neon",
    "aws-rds",
    "aws-aurora",
    "azure-flexible",
    "cloud-sql",
    "self-hosted",
}


def load_release() -> None:
    # Committed tests elsewhere truncate the config schema; load the migration's rows again.
    MIGRATION.load(None, SimpleNamespace(connection=connections["default"]))


def test_the_migration_carries_its_own_copy_equal_to_the_release_file() -> None:
    assert json.loads(MIGRATION.PROFILES_JSON) == json.loads(RELEASE_FILE.read_text())
    assert RELEASE_FILE.stem == MIGRATION.RELEASE


def test_the_migration_does_not_import_live_provider_code() -> None:
    code = MIGRATION.__loader__.get_source(MIGRATION.__name__).split("PROFILES_JSON = r")[0]
    assert "from config" not in code and "import config" not in code


def test_every_fact_has_value_as_of_source_url_and_verified() -> None:
    profiles = profiles_from_file(RELEASE_FILE)
    assert {p.provider for p in profiles} == PROVIDERS
    for p in profiles:
        assert set(REQUIRED_FIELDS) <= set(p.facts), p.name
        for field, fact in p.facts.items():
            assert fact.source.startswith("https://"), (p.name, field)
            assert isinstance(fact.as_of, dt.date)
            assert fact.verified in (True, False)
            assert fact.note, (p.name, field)  # why it is, or is not, verified


def test_unverified_facts_say_so() -> None:
    rds = next(p for p in profiles_from_file(RELEASE_FILE) if p.name == "aws-rds")
    assert rds.fact("compliance").verified is False
    neon = next(p for p in profiles_from_file(RELEASE_FILE) if p.name == "neon-scale")
    assert neon.fact("max_client_connections").verified is True  # Neon's pooling doc


@pytest.mark.django_db(databases="__all__")
def test_migrate_deployed_the_release_and_reloading_is_idempotent() -> None:
    load_release()
    names = sorted(p["name"] for p in json.loads(RELEASE_FILE.read_text())["profiles"])
    rows = ProviderProfile.objects.using("config").filter(name__in=names).order_by("name")
    before = [(r.name, r.version, r.capabilities) for r in rows]
    assert [n for n, _, _ in before] == names
    load_release()
    after = [(r.name, r.version, r.capabilities) for r in rows.all()]
    assert after == before  # unchanged rows are not rewritten: their version does not move
    from_db = {p.name: p for p in profiles_from_db()}
    for p in profiles_from_file(RELEASE_FILE):
        assert from_db[p.name].facts == p.facts


@pytest.mark.django_db(databases="__all__")
def test_the_config_runtime_role_cannot_write_profiles() -> None:
    load_release()
    with connections["config"].cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("aibos_config_role",)
        for sql in (
            "INSERT INTO config.provider_profiles (name, provider, capabilities) "
            "VALUES ('rogue', 'x', '{}')",
            "UPDATE config.provider_profiles SET capabilities = '{}' WHERE name = 'aws-rds'",
            "DELETE FROM config.provider_profiles WHERE name = 'aws-rds'",
        ):
            with pytest.raises(ProgrammingError, match="permission denied"):
                with transaction.atomic(using="config"):
                    cur.execute(sql)
        cur.execute("SELECT count(*) FROM config.provider_profiles WHERE name = 'aws-rds'")
        assert cur.fetchone() == (1,)  # but it reads them


def test_stale_facts_are_found_by_age() -> None:
    profiles = profiles_from_file(RELEASE_FILE)
    assert stale_facts(profiles, today=dt.date(2026, 12, 4), max_age_days=30) == ()
    stale = stale_facts(profiles, today=dt.date(2027, 6, 30), max_age_days=180)
    assert {s.profile for s in stale} == {p.name for p in profiles}
    assert all(s.age_days > 180 for s in stale)


def test_the_system_check_warns_on_stale_profiles() -> None:
    with override_settings(AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS=100_000):
        assert provider_profiles_fresh() == []
    with override_settings(AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS=0):
        warnings = provider_profiles_fresh()
    assert warnings and {w.id for w in warnings} == {"config.W001"}
    assert "as_of" in warnings[0].msg
