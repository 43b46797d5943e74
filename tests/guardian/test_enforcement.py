"""Levels per environment, the baseline, inline ignores with a reason and an expiry, acks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from guardian.config import ConfigError, parse_config
from guardian.enforcement import enforce, load_baseline, parse_ignores
from guardian.findings import Location
from guardian.runner import judge
from guardian.sources.files import plan_from_files
from tests.guardian.helpers import GOVERNED, findings

NO_TENANT = "CREATE TABLE finance.invoices (id uuid PRIMARY KEY, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);"
TODAY = dt.date(2026, 12, 4)


def test_levels_come_from_the_environment_then_default_then_the_rule() -> None:
    config = parse_config(
        {
            "levels": {
                "default": {"tenant-id-missing": "warn"},
                "development": {"tenant-id-missing": "shadow"},
            }
        }
    )
    found = [f for f in findings(NO_TENANT) if f.rule == "tenant-id-missing"]
    assert [f.level for f in enforce(found, config, "development").findings] == ["shadow"]
    assert [f.level for f in enforce(found, config, "production").findings] == ["warn"]
    assert [f.level for f in enforce(found, GOVERNED, "production").findings] == ["block"]


def test_shadow_runs_warn_stops_unless_acknowledged_block_always_stops() -> None:
    found = [f for f in findings(NO_TENANT) if f.rule == "tenant-id-missing"]
    for level, ok, ok_acked in (
        ("shadow", True, True),
        ("warn", False, True),
        ("block", False, False),
    ):
        config = parse_config({"levels": {"default": {"tenant-id-missing": level}}})
        assert enforce(found, config, "ci").ok is ok
        assert enforce(found, config, "ci", acknowledged=[found[0].id]).ok is ok_acked


def test_bad_configuration_is_an_error_that_names_the_problem() -> None:
    with pytest.raises(ConfigError, match="levels are shadow, warn, block"):
        parse_config({"levels": {"ci": {"tenant-id-missing": "loud"}}})
    with pytest.raises(ConfigError, match="needs a reason"):
        parse_config({"global_tables": {"finance.lookup": ""}})
    with pytest.raises(ConfigError, match="unknown rule 'no-such-rule'"):
        parse_config(
            {"levels": {"ci": {"no-such-rule": "warn"}}}, known_rules={"tenant-id-missing"}
        )
    with pytest.raises(ConfigError, match="unknown key 'gobal_tables'"):
        parse_config({"gobal_tables": {}})


def test_a_baseline_entry_accepts_a_finding_and_needs_a_reason(tmp_path: Path) -> None:
    (f,) = [f for f in findings(NO_TENANT) if f.rule == "tenant-id-missing"]
    path = tmp_path / "baseline.toml"
    path.write_text(f'[[accepted]]\nid = "{f.id}"\nreason = "legacy table, moving in Q1"\n')
    verdict = enforce([f], GOVERNED, "ci", baseline=load_baseline(path))
    assert verdict.ok and verdict.findings[0].accepted == "baseline: legacy table, moving in Q1"
    path.write_text(f'[[accepted]]\nid = "{f.id}"\nreason = ""\n')
    with pytest.raises(ConfigError, match="needs id and a non-empty reason"):
        load_baseline(path)


def test_a_baseline_entry_that_matches_nothing_is_reported_stale(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text('[[accepted]]\nid = "tenant-id-missing:0000000000"\nreason = "gone"\n')
    assert enforce([], GOVERNED, "ci", baseline=load_baseline(path)).stale_baseline == [
        "tenant-id-missing:0000000000"
    ]


def _sql_file(tmp_path: Path, comment: str) -> Path:
    path = tmp_path / "0001.sql"
    path.write_text(f"SELECT 1;\n{comment}\n{NO_TENANT}\n")
    return path


def _judge_file(path: Path) -> list[tuple[str, str, bool, int]]:
    run = judge(plan_from_files([path]), None, GOVERNED, env="ci", today=TODAY)
    return [
        (f.rule, f.level, f.stops(), f.location.line)
        for f in run.verdict.findings
        if f.level != "info"
    ]


def test_an_inline_ignore_with_reason_and_future_expiry_accepts_the_next_statement(
    tmp_path: Path,
) -> None:
    path = _sql_file(
        tmp_path,
        '-- guardian-ignore: tenant-id-missing until=2027-01-31 reason="tenant column added by 0002"',
    )
    assert ("tenant-id-missing", "block", False, 3) in _judge_file(path)


def test_an_expired_ignore_stops_the_run(tmp_path: Path) -> None:
    path = _sql_file(
        tmp_path, '-- guardian-ignore: tenant-id-missing until=2026-11-30 reason="was temporary"'
    )
    got = _judge_file(path)
    assert ("ignore-expired", "block", True, 3) in got
    assert ("tenant-id-missing", "block", True, 3) in got


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("-- guardian-ignore: tenant-id-missing until=2027-01-31", "no reason"),
        ('-- guardian-ignore: tenant-id-missing reason="later"', "no until"),
        ('-- guardian-ignore: no-such-rule until=2027-01-31 reason="x"', "unknown rule"),
    ],
)
def test_an_ignore_without_reason_expiry_or_known_rule_is_itself_a_blocking_finding(
    tmp_path: Path, comment: str, problem: str
) -> None:
    path = _sql_file(tmp_path, comment)
    run = judge(plan_from_files([path]), None, GOVERNED, env="ci", today=TODAY)
    (invalid,) = [f for f in run.verdict.findings if f.rule == "ignore-invalid"]
    assert problem in invalid.message and invalid.stops()
    assert next(f for f in run.verdict.findings if f.rule == "tenant-id-missing").stops()


def test_ignores_parse_quoted_reasons_and_several_rules() -> None:
    (ig,) = parse_ignores(
        '-- guardian-ignore: naming,json-not-jsonb until=2027-03-01 reason="vendor schema, frozen"',
        Location("file", path="x.sql", line=3),
    )
    assert ig.rules == ("naming", "json-not-jsonb")
    assert ig.reason == "vendor schema, frozen" and ig.until == dt.date(2027, 3, 1)


def test_manage_py_check_reports_a_broken_guardian_config(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from guardian.checks import check_guardian_config

    assert check_guardian_config() == []
    bad = tmp_path / "guardian.toml"
    bad.write_text('[levels.production]\n"tenant-id-missing" = "off"\n')
    settings.GUARDIAN_CONFIG = bad
    (error,) = check_guardian_config()
    assert error.id == "guardian.E001" and "levels are shadow, warn, block" in error.msg


def test_every_rule_is_documented_with_its_default_level() -> None:
    from django.conf import settings

    from guardian.rules import RULES

    doc = (Path(settings.BASE_DIR) / "docs" / "guardian.md").read_text()
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.category} | {rule.default} |" in doc, rule.id


def test_thresholds_must_be_numbers_and_a_broken_baseline_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"\[thresholds\] lock_rows = '100k'; a non-negative number"
    ):
        parse_config({"thresholds": {"lock_rows": "100k"}})
    bad = tmp_path / "baseline.toml"
    bad.write_text("[[accepted]\nid = 'x'\n")
    with pytest.raises(ConfigError, match="guardian baseline"):
        load_baseline(bad)


def test_acknowledgements_may_be_comma_separated() -> None:
    found = [
        f for f in findings("CREATE TABLE finance.t (id uuid PRIMARY KEY);") if f.level != "info"
    ]
    assert len(found) == 3  # tenant_id, created_at, updated_at
    config = parse_config({"levels": {"default": {r: "warn" for r in {f.rule for f in found}}}})
    assert enforce(found, config, "ci", acknowledged=[",".join(f.id for f in found)]).ok
    assert not enforce(found, config, "ci", acknowledged=[found[0].id]).ok
