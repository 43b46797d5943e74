"""manage.py optimizer_report in its three formats, on the fixture workload."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.optimizer_workload import SCHEMA, WORKLOAD
from optimizer.report import DEFAULT_SCHEMA_ALIASES

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def workload_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hypopg: None) -> Path:
    # The command evaluates the fixture schema on the finance alias, as the tests do.
    monkeypatch.setitem(DEFAULT_SCHEMA_ALIASES, SCHEMA, "finance")
    path = tmp_path / "workload.jsonl"
    path.write_text(
        "".join(json.dumps({"sql": s, "calls": c, "mean_ms": m}) + "\n" for s, c, m in WORKLOAD)
    )
    return path


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("optimizer_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_report_lists_findings_and_says_pg_stat_statements_is_missing(
    workload_file: Path,
) -> None:
    doc = json.loads(_run("--format", "json", "--workload", str(workload_file)))
    rules = sorted({f["rule"] for f in doc["findings"]})
    assert rules == [
        "optimizer.missing_index",
        "optimizer.offset_pagination",
        "optimizer.seq_scan_large",
        "optimizer.tenant_predicate",
    ]
    assert any("pg_stat_statements" in note for note in doc["notes"])
    assert doc["advisor"]["finance"]["cost_after"] < doc["advisor"]["finance"]["cost_before"] / 2


def test_sarif_report_is_sarif_with_logical_locations(workload_file: Path) -> None:
    doc = json.loads(_run("--format", "sarif", "--no-pgss", "--workload", str(workload_file)))
    (run,) = doc["runs"]
    assert run["tool"]["driver"]["name"] == "aibos-optimizer"
    index = [r for r in run["results"] if r["ruleId"] == "optimizer.missing_index"]
    assert len(index) == 2
    assert index[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        f"{SCHEMA}.orders"
    )


def test_text_report_and_record(workload_file: Path) -> None:
    text = _run("--no-pgss", "--workload", str(workload_file), "--record")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS" in text
    from optimizer.models import Recommendation

    assert (
        Recommendation.objects.using("kernel").filter(rule="optimizer.missing_index").count() == 2
    )
