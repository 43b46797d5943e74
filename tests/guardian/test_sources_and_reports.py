"""SQL files map findings to 1-based lines; the same rule fires for a Django operation and a
raw statement; the reports (text, JSON, SARIF) say the same thing."""

from __future__ import annotations

import json
from pathlib import Path

from guardian.reporting import to_json, to_sarif, to_text
from guardian.runner import judge
from guardian.sources.files import plan_from_files
from tests.guardian.helpers import GOVERNED


def _run(tmp_path: Path, sql: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "schema.sql"
    path.write_text(sql)
    return judge(plan_from_files([tmp_path]), None, GOVERNED, env="ci")


def test_file_findings_carry_1_based_lines_even_after_comments(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "-- header\n\n/* block\n comment */\nSELECT 1;\n\n-- the table\nCREATE TABLE finance.invoices (id uuid PRIMARY KEY);\n",
    )
    lines = {f.location.line for f in run.verdict.findings if f.rule == "tenant-id-missing"}
    assert lines == {8}


def test_a_syntax_error_is_a_blocking_finding_with_its_line(tmp_path: Path) -> None:
    run = _run(tmp_path, "SELECT 1;\n\nCREATE TABLE finance.x (id uuid PRIMARY KEY,);\n")
    (f,) = run.verdict.findings
    assert (f.rule, f.level, f.location.line) == ("parse-error", "block", 3)
    assert "syntax error" in f.message and not run.verdict.ok


def test_json_and_sarif_agree_with_the_verdict(tmp_path: Path) -> None:
    run = _run(
        tmp_path, "SELECT 1;\nCREATE TABLE finance.invoices (id uuid PRIMARY KEY, amount real);\n"
    )
    data = json.loads(to_json(run))
    assert data["ok"] is False
    by_rule = {f["rule"]: f for f in data["findings"]}
    assert by_rule["float-or-money-type"]["location"]["line"] == 2
    assert by_rule["tenant-id-missing"]["stops"] is True
    assert by_rule["tenant-id-missing"]["fix"]["sql"].startswith(
        'ALTER TABLE "finance"."invoices" ADD COLUMN tenant_id'
    )

    sarif = json.loads(to_sarif(run))
    assert sarif["version"] == "2.1.0"
    (sarif_run,) = sarif["runs"]
    rules = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules) and "tenant-id-missing" in rules
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["properties"]["guardianFindingId"].startswith(result["ruleId"] + ":")
        assert result["partialFingerprints"]
    money = next(r for r in sarif_run["results"] if r["ruleId"] == "float-or-money-type")
    assert money["level"] == "error"
    assert money["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert money["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "schema.sql"
    )

    text = to_text(run)
    assert "STOP block  tenant-id-missing" in text
    # tenant_id, created_at and the float block; the missing updated_at warns.
    assert "4 finding(s) stop this run" in text
    assert "--guardian-ack updated-at-missing:" in text


def test_finding_ids_are_stable_when_lines_move(tmp_path: Path) -> None:
    sql = "CREATE TABLE finance.invoices (id uuid PRIMARY KEY);\n"
    first = {f.id for f in _run(tmp_path, sql).verdict.findings}
    moved = {f.id for f in _run(tmp_path, "\n\n-- moved down\n" + sql).verdict.findings}
    assert first == moved
