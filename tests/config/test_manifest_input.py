"""Hostile or sloppy manifests and URLs: a clear error or a redacted URL, never a crash or a
leaked password."""

from __future__ import annotations

import pytest

from config.providers.detect import redact
from config.providers.manifest import ManifestError, manifest_from_text

VALID = """db_requirements:
  cost_sensitivity: low
  burstiness: steady
  concurrency_target: 100
  compliance: [soc2]
  region: us-east-1
  budget_mode: performance
"""


def test_the_valid_base_parses() -> None:
    assert manifest_from_text(VALID + "  workload: oltp\n").workload == "oltp"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a: &a ["x","x"]\nb: &b [*a,*a]\ndb_requirements:\n  workload: *b\n', "aliases"),
        ("db_requirements:\n  workload: oltp\n  workload: olap\n", "duplicate key 'workload'"),
        (VALID + "  workload: [oltp, olap]\n", "workload: ['oltp', 'olap'] is not one of"),
        (VALID + "  workload: oltp\n  extensions: [[pgaudit]]\n", "extensions"),
        (VALID + "  workload: oltp\n  budget_usd_month: .nan\n", "budget_usd_month"),
    ],
)
def test_a_bad_manifest_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        manifest_from_text(text)


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(ManifestError) as err:
        manifest_from_text(VALID + "  workload: " + "x" * 5000 + "\n")
    assert len(str(err.value)) < 300


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://owner:s3cret@db.example:5432/app",
        "postgresql://:s3cret@db.example/app",
        "postgresql://db.example/app?sslmode=require&password=s3cret",
    ],
)
def test_passwords_never_survive_redaction(url: str) -> None:
    assert "s3cret" not in redact(url)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.update(as_of="2026-13-01"), "month must be in 1..12"),
        (lambda f: f.update(verified="false"), "verified must be true or false"),
    ],
)
def test_a_malformed_release_file_is_a_check_error_not_a_crash(tmp_path, change, message) -> None:  # type: ignore[no-untyped-def]
    import json

    from config.providers.profiles import ProfileDataError, latest_release_path, profiles_from_file

    release = json.loads(latest_release_path().read_text())
    change(next(iter(release["profiles"][0]["capabilities"]["fields"].values())))
    bad = tmp_path / "2099-01-01.json"
    bad.write_text(json.dumps(release))
    with pytest.raises(ProfileDataError, match=message):
        profiles_from_file(bad)
    del release["profiles"][0]["name"]
    bad.write_text(json.dumps(release))
    with pytest.raises(ProfileDataError, match="missing or wrong"):
        profiles_from_file(bad)
