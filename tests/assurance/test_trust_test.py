"""The CFO Trust Test: it blocks everything on a healthy database, its outputs are well-formed
and mapped to TSC ids, blocked attempts outlive their rollback, and it turns red when a
protection is missing (not blocked) or moved (blocked the wrong way)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from aibos.tenancy import tenant_context
from assurance.models import SecurityEvent
from assurance.trust.base import TSC, Attack, Expect, Got
from assurance.trust.dataset import SLUGS, dataset_seed
from assurance.trust.runner import (
    CHANGED,
    FAIL,
    NOT_BLOCKED,
    PASS,
    UNEXPECTED,
    all_attacks,
    run_attacks,
    verdict,
)
from kernel.models import Tenant
from tests.security.helpers import fetchall, scalar

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

SEEDS_FIVE = {
    "ledger.post_unbalanced_journal",
    "ledger.modify_posted_journal",
    "ledger.delete_posted_journal",
    "ledger.orphan_journal_line",
    "ledger.add_line_to_posted_journal",
}


def _run(tmp_path: Path, *only: str) -> dict[str, Any]:
    out, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    args = [f"--only={o}" for o in only]
    with open(tmp_path / "stdout.txt", "w") as stdout:
        call_command("trust_test", *args, json=out, junit=junit, stdout=stdout)
    return json.loads(out.read_text())


def _run_failing(tmp_path: Path, *only: str) -> dict[str, Any]:
    with pytest.raises(CommandError, match="not blocked as expected"):
        _run(tmp_path, *only)
    return json.loads((tmp_path / "results.json").read_text())


@contextmanager
def owner_change(do: str, undo: str) -> Iterator[None]:
    """A protection removed for real (committed as the owner, so the runtime roles' own
    connections see it), and put back whatever happens."""
    with connections["default"].cursor() as cur:
        cur.execute(do)
    try:
        yield
    finally:
        with connections["default"].cursor() as cur:
            cur.execute(undo)


def test_the_trust_test_blocks_every_attack_and_exits_zero(
    committed: None, tmp_path: Path, tenant_b: Tenant, books_b: Any
) -> None:
    """On a healthy database: >= 40 attacks, all blocked; run twice on the same database, the
    second run finds the same dataset and disturbs no other tenant."""
    others_before = scalar(
        "default", "SELECT count(*) FROM kernel.audit_events WHERE tenant_id = %s", [tenant_b.id]
    )
    first = _run(tmp_path)
    assert first["ok"] is True
    assert first["summary"]["attacks"] == len(first["attacks"]) >= 40
    assert {a["verdict"] for a in first["attacks"]} == {PASS}
    assert {a["name"] for a in first["attacks"]} >= SEEDS_FIVE
    assert set(first["summary"]["by_layer"]) >= {"RLS", "privilege", "guard trigger", "API"}
    second = _run(tmp_path)
    assert second["ok"] is True and second["run_id"] != first["run_id"]
    assert second["tenants"] == first["tenants"]
    assert [t["slug"] for t in first["tenants"]] == list(SLUGS)
    # The dataset was found, not made again: one company per challenge tenant.
    assert fetchall(
        "default",
        "SELECT t.slug, count(c.id) FROM kernel.tenants t JOIN finance.companies c "
        "ON c.tenant_id = t.id WHERE t.slug = ANY(%s) GROUP BY 1 ORDER BY 1",
        [list(SLUGS)],
    ) == [(slug, 1) for slug in SLUGS]
    # Another tenant: nothing written, no event recorded.
    assert (
        scalar(
            "default",
            "SELECT count(*) FROM kernel.audit_events WHERE tenant_id = %s",
            [tenant_b.id],
        )
        == others_before
    )
    assert (
        scalar(
            "default",
            "SELECT count(*) FROM kernel.security_events WHERE tenant_id = %s",
            [tenant_b.id],
        )
        == 0
    )


def test_the_json_and_junit_are_well_formed_and_map_tsc_ids(
    committed: None, tmp_path: Path
) -> None:
    results = _run(tmp_path)
    assert results["format"] == "aibos.trust_test.v1"
    for attack in results["attacks"]:
        assert attack["tsc"] and set(attack["tsc"]) <= set(TSC), attack["name"]
        assert attack["layer"] and attack["expected"]["text"] == attack["got"]["text"]
        assert attack["security_event_id"], attack["name"]
    assert set(results["tsc"]) == {t for a in results["attacks"] for t in a["tsc"]}
    # The later phases: governance checks of every group, then the evidence pack exported
    # (carrying this run's results) and verified by its own verifier.
    checks = results["governance_checks"]
    assert checks["failed"] == 0 and checks["pending"] == 0 and checks["passed"] >= 6
    assert {c["group"] for c in checks["checks"]} == {
        "tenant isolation",
        "schema boundary",
        "journal integrity",
        "immutability",
        "audit chain",
    }
    steps = {s["name"]: s for s in results["evidence"]["steps"]}
    assert {n: s["status"] for n, s in steps.items()} == {
        "evidence.export": "PASS",
        "evidence.verify": "PASS",
    }
    pack = tmp_path / "evidence-trust-test-a.zip"
    with zipfile.ZipFile(pack) as z:
        carried = json.loads(z.read("governance/trust_test.json"))
    assert carried["run_id"] == results["run_id"]

    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = root.find("testsuite[@name='trust_test.attacks']")
    assert suite is not None
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "0")) == len(cases) == len(results["attacks"])
    assert suite.get("failures") == "0"
    for case in cases:
        tsc = [p.get("value") for p in case.iterfind("properties/property[@name='tsc']")]
        assert tsc and set(tsc) <= set(TSC), case.get("name")
        assert case.find("failure") is None
    evidence = root.find("testsuite[@name='trust_test.evidence']")
    assert evidence is not None and evidence.get("failures") == "0"
    assert len(evidence.findall("testcase")) == 2


def test_a_blocked_attempt_leaves_a_security_event_after_its_rollback(committed: None) -> None:
    ds = dataset_seed()
    attack = next(a for a in all_attacks() if a.name == "ledger.modify_posted_journal")
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    # Even inside a caller's transaction that is rolled back, the event is committed: it is
    # written on a connection of its own.
    with pytest.raises(RuntimeError), transaction.atomic(using="kernel"):
        (result,) = run_attacks(ds, run_id=run_id, attacks=[attack])
        raise RuntimeError("roll the caller back")
    assert result.verdict == PASS and result.event_id
    with tenant_context(ds.a.id, using=["kernel"]):
        event = SecurityEvent.objects.get(correlation_id=run_id)
    assert str(event.pk) == result.event_id
    assert (event.name, event.layer, event.sqlstate, event.rule) == (
        "ledger.modify_posted_journal",
        "guard trigger",
        "23514",
        "finance_journalentry_posted_immutable",
    )
    assert event.tsc == list(attack.tsc) and event.db_role == "aibos_finance_role"
    # The attempt itself left nothing.
    assert fetchall(
        "default", "SELECT memo FROM finance.journal_entries WHERE id = %s", [ds.a.posted.pk]
    ) == [(ds.a.posted.memo,)]
    # Recorded by the kernel role, which may not take it back.
    assert fetchall(
        "default",
        "SELECT db_role FROM kernel.audit_events WHERE table_name = 'security_events' "
        "AND row_id = %s",
        [result.event_id],
    ) == [("aibos_kernel_role",)]


def test_an_attack_that_is_not_blocked_fails_the_run(committed: None, tmp_path: Path) -> None:
    dataset_seed()
    with owner_change(
        "ALTER TABLE finance.journal_entries DISABLE TRIGGER guard_finance_journalentry_guard",
        "ALTER TABLE finance.journal_entries ENABLE TRIGGER guard_finance_journalentry_guard",
    ):
        results = _run_failing(tmp_path, "ledger.modify_posted_journal", "ledger.edit_posted")
    by_name = {a["name"]: a for a in results["attacks"]}
    assert by_name["ledger.modify_posted_journal"]["verdict"] == FAIL
    assert by_name["ledger.modify_posted_journal"]["reason"] == NOT_BLOCKED
    assert by_name["ledger.edit_posted_line"]["verdict"] == PASS  # a protection of its own
    assert results["ok"] is False
    root = ET.parse(tmp_path / "junit.xml").getroot()
    failures = root.findall("testsuite[@name='trust_test.attacks']/testcase/failure")
    assert [f.get("type") for f in failures] == [NOT_BLOCKED]
    # The catalog check sees the disabled trigger too.
    checks = {c["name"]: c for c in results["governance_checks"]["checks"]}
    assert checks["catalog.triggers"]["status"] == FAIL
    assert "guard_finance_journalentry_guard is disabled" in checks["catalog.triggers"]["detail"]
    # Each attack rolled back: the edit that went through is gone.
    ds = dataset_seed()
    assert (
        scalar(
            "default", "SELECT memo FROM finance.journal_entries WHERE id = %s", [ds.a.posted.pk]
        )
        == ds.a.posted.memo
    )
    # And once the guard is back, the same run is green.
    assert _run(tmp_path, "ledger.modify_posted_journal")["ok"] is True


def test_an_attack_refused_the_wrong_way_is_an_unexpected_outcome(
    committed: None, tmp_path: Path
) -> None:
    """With UPDATE granted on journal lines, the line guard still stops the edit — but the
    privilege that should have stopped it is gone, and the run says so."""
    dataset_seed()
    with owner_change(
        "GRANT UPDATE ON finance.journal_lines TO aibos_finance_role",
        "REVOKE UPDATE ON finance.journal_lines FROM aibos_finance_role",
    ):
        results = _run_failing(tmp_path, "ledger.edit_posted_line")
    (attack,) = results["attacks"]
    assert (attack["verdict"], attack["reason"]) == (FAIL, UNEXPECTED)
    assert attack["expected"]["sqlstate"] == "42501" and attack["got"]["sqlstate"] == "23514"


def _attack(expect: Expect) -> Attack:
    return Attack(
        name="x.y",
        title="t",
        layer="RLS",
        tsc=("CC6.1",),
        expect=expect,
        attempt=lambda ds: Got(),
    )


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize(
    ("expect", "got", "problem", "outcome"),
    [
        (Expect(rows=0), Got(rows=0), None, (PASS, "")),
        (Expect(rows=0), Got(rows=0), "row changed", (FAIL, CHANGED)),
        (Expect(rows=0), Got(rows=3), None, (FAIL, NOT_BLOCKED)),
        (Expect(rows=0), Got(sqlstate="42501"), None, (FAIL, UNEXPECTED)),
        (Expect(sqlstate="42501"), Got(rows=1), None, (FAIL, NOT_BLOCKED)),
        (Expect(sqlstate="42501"), Got(sqlstate="23514"), None, (FAIL, UNEXPECTED)),
        (
            Expect(sqlstate="23514", rule="a"),
            Got(sqlstate="23514", rule="b"),
            None,
            (FAIL, UNEXPECTED),
        ),
        (Expect(http=404), Got(http=200), None, (FAIL, NOT_BLOCKED)),
        (Expect(http=404), Got(http=403), None, (FAIL, UNEXPECTED)),
        (Expect(http=200, rows=0), Got(http=200, rows=1), None, (FAIL, NOT_BLOCKED)),
        (Expect(error="PermissionError"), Got(rows=1), None, (FAIL, NOT_BLOCKED)),
    ],
)
def test_verdicts(expect: Expect, got: Got, problem: str | None, outcome: tuple[str, str]) -> None:
    assert verdict(_attack(expect), got, problem) == outcome
