"""The evidence pack: deterministic, signed, complete, safe for spreadsheets, and its own
verifier (standard library only) catches any altered byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from assurance.chain.sealer import seal_until_caught_up
from assurance.compliance import NOT_EVIDENCED, SATISFIED, compliance_report
from assurance.evidence import export_pack
from assurance.evidence import verify as pack_verify
from assurance.evidence.files import safe_cell
from assurance.signing import generate_signing_key
from tests.finance.books import post_simple

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[Path]:
    key = tmp_path / "keys" / "signing_ed25519"
    generate_signing_key(key)
    with override_settings(
        SIGNING_KEY_FILE=key,
        AUDIT_CHECKPOINT_DIR=tmp_path / "checkpoints",
        TRUST_TEST_RESULT=tmp_path / "no-trust-test.json",
    ):
        yield tmp_path


@pytest.fixture
def pack(committed: None, books: Any, books_b: Any, signed: Path) -> Path:
    import datetime as dt
    from decimal import Decimal

    from finance import services
    from tests.factories import system

    for amount in ("10.00", "20.00", "30.00"):
        post_simple(books.us, amount)
    post_simple(books_b)
    # A memo a spreadsheet would run as a formula.
    services.journal_create_draft(
        actor=system(books.tenant.id),
        company_id=books.us.company.pk,
        entry_date=dt.date(2026, 3, 2),
        reference='=HYPERLINK("http://evil.test")',
        lines=[
            services.LineInput(books.us.accounts["5000"].pk, "debit", Decimal("5.00")),
            services.LineInput(books.us.accounts["1000"].pk, "credit", Decimal("5.00")),
        ],
        post=True,
    )
    call_command("audit_seal")
    out = signed / "acme.zip"
    export_pack(books.tenant.id, books.tenant.slug, out)
    return out


def rezip(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, change.get(info.filename, src.read(info.filename)))
    return target


def test_the_pack_verifies_with_its_own_stdlib_verifier_and_with_ssh_keygen(
    pack: Path, tmp_path: Path
) -> None:
    # Run verify.py as an auditor would: a separate interpreter, nothing of ours importable.
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(pack) as z:
        z.extractall(folder)
    done = subprocess.run(
        [sys.executable, "-I", str(folder / "verify.py"), str(pack)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout
    keygen = shutil.which("ssh-keygen")
    if keygen:  # OpenSSH's own check of the manifest signature
        with (folder / "manifest.json").open("rb") as manifest:
            ok = subprocess.run(
                [
                    keygen,
                    "-Y",
                    "verify",
                    "-f",
                    str(folder / "allowed_signers"),
                    "-I",
                    "aibos-audit",
                    "-n",
                    "aibos-evidence",
                    "-s",
                    str(folder / "manifest.json.sig"),
                ],
                stdin=manifest,
                capture_output=True,
                text=True,
                check=False,
            )
        assert ok.returncode == 0, ok.stderr


def test_the_same_state_gives_byte_identical_packs(pack: Path, books: Any, signed: Path) -> None:
    again = signed / "again.zip"
    export_pack(books.tenant.id, books.tenant.slug, again)
    assert again.read_bytes() == pack.read_bytes()


def test_the_manifest_counts_what_the_files_hold_and_the_tenant_only(
    pack: Path, books: Any, books_b: Any
) -> None:
    with zipfile.ZipFile(pack) as z:
        manifest = json.loads(z.read("manifest.json"))
        populations = {p["name"]: p for p in manifest["populations"]}
        entries = [json.loads(line) for line in z.read("data/journal_entries.jsonl").splitlines()]
        events = z.read("data/audit_events.jsonl").splitlines()
        assert len(entries) == populations["journal_entries"]["rows"] == 4
        assert len(events) == manifest["chain"]["events"] == manifest["chain"]["last_seq"]
        assert manifest["gaps"] == [] and manifest["chain"]["unsealed_events_in_period"] == 0
        assert {json.loads(e)["tenant_id"] for e in events} == {str(books.tenant.id)}
        assert "SELECT" in populations["payments"]["query"]
        assert manifest["checkpoints"] and manifest["database"]["system_identifier"]
        (usd,) = manifest["reconciliation"]["posted_journal_totals_by_currency"]
        assert usd["debit"] == usd["credit"] == "65.0000"
        views = json.loads(z.read("governance/governance_views.json"))
        csv_text = z.read("data/journal_entries.csv").decode()
        jsonl_text = z.read("data/journal_entries.jsonl").decode()
    # Neutralised for spreadsheets, raw in the JSONL twin.
    assert '\'=HYPERLINK(""http://evil.test"")' in csv_text
    assert '"reference":"=HYPERLINK(\\"http://evil.test\\")"' in jsonl_text
    assert safe_cell("-1") == "'-1" and safe_cell("ok") == "ok"
    # The governance views: every summary check passes; the data views hold this tenant only.
    assert {r["status"] for r in views["kernel.v_governance_summary"]} == {"PASS"}
    assert [r["tenant_id"] for r in views["kernel.v_tenant_health"]] == [str(books.tenant.id)]
    assert views["finance.v_double_entry_check"] == []  # no failing entry


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("data/journal_lines.jsonl", "data/journal_lines.jsonl: sha256/size differ"),
        ("data/audit_events.jsonl", "does not follow (event modified)"),
        ("manifest.json", "manifest.json.sig does NOT verify"),
        ("governance/compliance.json", "governance/compliance.json: sha256/size differ"),
    ],
)
def test_any_altered_file_is_named(pack: Path, tmp_path: Path, member: str, expected: str) -> None:
    with zipfile.ZipFile(pack) as z:
        data = bytearray(z.read(member))
    # Change one digit inside the content (not a line break, not a structural byte).
    index = next(i for i in range(len(data) - 1, 0, -1) if chr(data[i]).isdigit())
    data[index] = ord("1") if data[index] != ord("1") else ord("2")
    report = pack_verify.verify(str(rezip(pack, tmp_path / "altered.zip", {member: bytes(data)})))
    assert any(expected in f for f in report.failures), report.failures


def test_a_pack_signed_by_another_key_fails_against_the_pinned_key(
    pack: Path, tmp_path: Path
) -> None:
    other = generate_signing_key(tmp_path / "other" / "key")
    pinned = f"aibos-audit {other.public_openssh}\n"
    report = pack_verify.verify(str(pack), pinned)
    assert "manifest.json.sig does NOT verify (manifest altered or signed by another key)" in (
        report.failures
    )


def test_export_command_rejects_bad_input_and_exports_a_period(
    pack: Path, books: Any, signed: Path
) -> None:
    with pytest.raises(CommandError, match="Unknown tenant slug"):
        call_command("evidence_export", tenant="nope", out=str(signed / "x.zip"))
    with pytest.raises(CommandError, match="is after"):
        call_command(
            "evidence_export",
            tenant=books.tenant.slug,
            out=str(signed / "x.zip"),
            start="2026-12-01",
            end="2026-01-01",
        )
    assert not (signed / "x.zip").exists()
    out = signed / "march.zip"
    call_command(
        "evidence_export",
        tenant=books.tenant.slug,
        out=str(out),
        start="2026-03-02",
        end="2026-03-02",
        verify=True,
    )
    with zipfile.ZipFile(out) as z:
        entries = [json.loads(x) for x in z.read("data/journal_entries.jsonl").splitlines()]
    assert [e["entry_date"] for e in entries] == ["2026-03-02"]


def test_compliance_marks_nothing_satisfied_without_a_passing_check(
    committed: None, books: Any, signed: Path
) -> None:
    post_simple(books.us)
    seal_until_caught_up()
    attacks = [{"name": "bypass.truncate_log", "tsc": ["A1.2", "CC8.1"], "verdict": "PASS"}]
    report = compliance_report({"status": "done", "attacks": attacks})
    by_id = {c["control"]: c for c in report["controls"]}
    for control in report["controls"]:
        if control["status"] == SATISFIED:
            assert control["evidence"] and all(e["passed"] for e in control["evidence"])
        if not control["evidence"]:
            assert control["status"] == NOT_EVIDENCED
    # No backup check here yet: said so, even with an attack tagged A1.2 in the run.
    assert by_id["A1.2"]["status"] == NOT_EVIDENCED
    assert any(e["ref"] == "bypass.truncate_log" for e in by_id["CC8.1"]["evidence"])
    assert by_id["CC6.1"]["status"] == SATISFIED
    # Remove a protection: the control it evidences turns failing, now.
    from django.db import connections

    with connections["default"].cursor() as cur:
        cur.execute("ALTER TABLE finance.journal_entries NO FORCE ROW LEVEL SECURITY")
    try:
        assert {c["control"]: c for c in compliance_report({})["controls"]}["CC6.1"][
            "status"
        ] == "failing"
    finally:
        with connections["default"].cursor() as cur:
            cur.execute("ALTER TABLE finance.journal_entries FORCE ROW LEVEL SECURITY")


def test_the_admin_action_downloads_a_verifying_pack(
    committed: None, client: Any, books: Any, alice: Any, bob: Any, signed: Path
) -> None:
    from tests.finance.test_admin import sign_in

    post_simple(books.us)
    seal_until_caught_up()
    sign_in(client, "tenant-a", "alice@a.test")
    page = client.get("/admin/kernel/tenant/")
    assert page.status_code == 200 and b"Export evidence pack" in page.content
    response = client.post(
        "/admin/kernel/tenant/",
        {"action": "export_evidence", "_selected_action": [str(books.tenant.id)]},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    downloaded = signed / "downloaded.zip"
    downloaded.write_bytes(b"".join(response.streaming_content))
    assert pack_verify.verify(str(downloaded)).failures == []
    with zipfile.ZipFile(downloaded) as z:
        assert json.loads(z.read("manifest.json"))["tenant"]["slug"] == books.tenant.slug

    # A non-admin user of the tenant gets a message, not a pack.
    client.logout()
    sign_in(client, "tenant-a", "bob@a.test")
    refused = client.post(
        "/admin/kernel/tenant/",
        {"action": "export_evidence", "_selected_action": [str(books.tenant.id)]},
        follow=True,
    )
    assert refused.status_code in (200, 403)
    assert "Content-Disposition" not in refused


def test_the_parallel_export_writes_the_same_bytes(
    pack: Path, books: Any, signed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long chain is read by worker processes in the exporter's snapshot: the same pack."""
    from assurance.evidence import chain_files

    monkeypatch.setattr(chain_files, "PARALLEL_FROM", 1)
    parallel = signed / "parallel.zip"
    export_pack(books.tenant.id, books.tenant.slug, parallel)
    assert parallel.read_bytes() == pack.read_bytes()


def test_a_chain_cut_after_its_checkpoint_does_not_verify(
    pack: Path, books: Any, signed: Path
) -> None:
    """Removing the newest links (seal and event) leaves a consistent, shorter chain: only the
    checkpoint signed before shows it."""
    from django.db import connections

    with connections["default"].cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "WITH last AS (SELECT seq, event_id FROM kernel.audit_seals WHERE tenant_id = %s "
            "ORDER BY seq DESC LIMIT 1), gone AS (DELETE FROM kernel.audit_seals s USING last "
            "WHERE s.tenant_id = %s AND s.seq = last.seq RETURNING s.event_id) "
            "DELETE FROM kernel.audit_events e USING gone WHERE e.id = gone.event_id",
            [books.tenant.id, books.tenant.id],
        )
        cur.execute("SET session_replication_role = DEFAULT")
    cut = signed / "cut.zip"
    export_pack(books.tenant.id, books.tenant.slug, cut)
    failures = pack_verify.verify(str(cut)).failures
    assert any("links removed from its end" in f for f in failures), failures


def test_an_entry_stored_twice_is_refused(pack: Path, tmp_path: Path) -> None:
    """Readers disagree on which copy of a duplicated name they show: the verifier refuses it."""
    forged = tmp_path / "twice.zip"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),  # zipfile warns, and writes it
        zipfile.ZipFile(pack) as src,
        zipfile.ZipFile(forged, "w") as dst,
    ):
        dst.writestr("data/payments.csv", b"FORGED ROW\r\n")
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
    failures = pack_verify.verify(str(forged)).failures
    assert any("entries stored twice" in f for f in failures), failures


def test_a_gap_across_the_workers_parts_is_one_gap() -> None:
    from assurance.evidence.chain_files import _merged

    assert _merged([[5, 5], [7, 9], [10, 12], [20, 20]]) == [[5, 5], [7, 12], [20, 20]]


def test_the_parallel_export_reports_a_deleted_link_like_verify_does(
    pack: Path, books: Any, signed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    from assurance.evidence import chain_files

    with zipfile.ZipFile(pack) as z:
        size = json.loads(z.read("manifest.json"))["chain"]["size"]
    middle = size // 2 + 1  # the first link of the second worker's part
    with connections["default"].cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "DELETE FROM kernel.audit_seals WHERE tenant_id = %s AND seq = %s",
            [books.tenant.id, middle],
        )
        cur.execute("SET session_replication_role = DEFAULT")
    monkeypatch.setattr(chain_files, "PARALLEL_FROM", 1)
    holed = signed / "holed.zip"
    export_pack(books.tenant.id, books.tenant.slug, holed)
    with zipfile.ZipFile(holed) as z:
        assert json.loads(z.read("manifest.json"))["gaps"] == [[middle, middle]]
    failures = pack_verify.verify(str(holed)).failures
    assert f"chain: sequence numbers {middle}..{middle} missing" in failures, failures
