"""The evidence pack: one tenant's audit trail, ledger and payments, with the proof around them.

Everything a population holds is read in ONE ``REPEATABLE READ, READ ONLY`` transaction as
``aibos_readonly`` with the tenant set (RLS scopes every row; the role can write nothing), in
keyset pages, so memory stays bounded whatever the size. Each file is streamed into the ZIP
while its SHA-256, size and row count are computed.

Deterministic: the same database state gives the same bytes (entries in a fixed order, fixed
timestamps and permissions, no wall-clock time anywhere; Ed25519 signatures are
deterministic). ``manifest.json`` records what each population is (query text and
parameters), the period, generator version and git revision, the database system identifier,
the chain range, checkpoints and gaps; ``manifest.json.sig`` signs it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction

from assurance.chain.canonical import GENESIS
from assurance.chain.checkpoints import read_checkpoints, system_identifier
from assurance.evidence.chain_files import Progress, write_chain
from assurance.evidence.files import (
    PAGE,
    CsvBuffer,
    PackWriter,
    SpooledFiles,
    jsonl_line,
    value_text,
)
from assurance.evidence.populations import (
    ENTRY_IN_PERIOD,
    POPULATIONS,
    Period,
    Population,
    period_params,
)
from assurance.signing import SigningKey

FORMAT = "aibos.evidence.v1"
# Deflate level 1: at 1M events the pack is ~11% larger than at 6 and the export ~20% faster.
COMPRESS_LEVEL = 1
VERIFY_SOURCE = Path(__file__).with_name("verify.py")
VERIFY_MD = Path(__file__).with_name("VERIFY.md")


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, like any deployer's
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version() -> str:
    try:
        return metadata.version("aibos-data-fabric")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class ExportResult:
    path: Path
    manifest: dict[str, Any]


class EvidenceExport:
    """Build the pack for one tenant. ``documents`` are extra JSON documents (governance views,
    catalog snapshot, Trust Test result, compliance report), computed by the caller."""

    def __init__(
        self,
        tenant_id: UUID,
        tenant_slug: str,
        key: SigningKey,
        *,
        period: Period | None = None,
        documents: dict[str, Any] | None = None,
        checkpoint_dir: Path | None = None,
        compress_level: int = COMPRESS_LEVEL,
        progress: Progress | None = None,
        parallel: bool = True,
    ) -> None:
        self.tenant_id, self.tenant_slug, self.key = tenant_id, tenant_slug, key
        self.period = period or Period(None, None)
        self.documents = documents or {}
        self.checkpoint_dir = checkpoint_dir
        self.level = compress_level
        self.progress = progress or (lambda name, n: None)
        self.parallel = parallel

    # -- reading ---------------------------------------------------------------------------
    def _pages(
        self, cur: Any, sql: str, params: dict[str, Any], key: Callable[[tuple], Any], first: Any
    ) -> Iterator[tuple[Any, ...]]:
        after = first
        while True:
            cur.execute(sql, {**params, "after": after, "page": PAGE})
            rows = cur.fetchall()
            yield from rows
            if len(rows) < PAGE:
                return
            after = key(rows[-1])

    def _chain_range(self, cur: Any) -> dict[str, Any]:
        """The contiguous seal range covering the period's events (whole chain if none)."""
        start = (
            dt.datetime.combine(self.period.start, dt.time.min, dt.UTC)
            if self.period.start
            else None
        )
        end = (
            dt.datetime.combine(self.period.end + dt.timedelta(days=1), dt.time.min, dt.UTC)
            if self.period.end
            else None
        )
        if start is None and end is None:  # the whole chain: two index probes
            cur.execute(
                "SELECT min(seq), max(seq), 0 FROM kernel.audit_seals WHERE tenant_id = %s",
                [self.tenant_id],
            )
        else:
            cur.execute(
                "SELECT min(s.seq), max(s.seq), count(*) FROM kernel.audit_seals s "
                "JOIN kernel.audit_events e ON e.id = s.event_id WHERE s.tenant_id = %s "
                "AND (%s::timestamptz IS NULL OR e.occurred_at >= %s) "
                "AND (%s::timestamptz IS NULL OR e.occurred_at < %s)",
                [self.tenant_id, start, start, end, end],
            )
        first, last, _ = cur.fetchone()
        if start is None and end is None:
            first = 1  # the whole chain: seals missing at its start are a gap, not a new start
        cur.execute(
            "SELECT max(seq) FROM kernel.audit_seals WHERE tenant_id = %s", [self.tenant_id]
        )
        (size,) = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM kernel.audit_events e WHERE e.tenant_id = %s "
            "AND NOT EXISTS (SELECT 1 FROM kernel.audit_seals s WHERE s.event_id = e.id) "
            "AND (%s::timestamptz IS NULL OR e.occurred_at >= %s) "
            "AND (%s::timestamptz IS NULL OR e.occurred_at < %s)",
            [self.tenant_id, start, start, end, end],
        )
        (unsealed,) = cur.fetchone()
        previous: str | None = GENESIS.hex()
        if first and first > 1:
            cur.execute(
                "SELECT hash FROM kernel.audit_seals WHERE tenant_id = %s AND seq = %s",
                [self.tenant_id, first - 1],
            )
            row = cur.fetchone()
            # Missing: the link before the range is gone; the first link cannot be checked.
            previous = bytes(row[0]).hex() if row else None
        return {
            "tenant_id": str(self.tenant_id),
            "first_seq": first or 1,
            "last_seq": last or 0,
            # The chain's length in the snapshot: a checkpoint beyond it means a cut chain.
            "size": size or 0,
            "previous_hash": previous,
            "unsealed_events_in_period": unsealed,
        }

    def _population(self, cur: Any, pack: PackWriter, population: Population) -> dict[str, Any]:
        params = population.params(self.period)
        spill = SpooledFiles()
        table = CsvBuffer(population.columns)
        lines: list[bytes] = []
        count = 0
        first = "00000000-0000-0000-0000-000000000000"
        for row in self._pages(cur, population.sql, params, lambda r: r[0], first):
            record = {c: value_text(v) for c, v in zip(population.columns, row, strict=True)}
            lines.append(jsonl_line(record) + b"\n")
            table.add([record[c] for c in population.columns])
            count += 1
            if len(lines) >= PAGE:
                spill.add("jsonl", b"".join(lines))
                spill.add("csv", table.take())
                lines.clear()
                self.progress(population.name, count)
        spill.add("jsonl", b"".join(lines))
        spill.add("csv", table.take())
        pack.stream(f"data/{population.name}.jsonl", spill.read("jsonl"), rows=count)
        pack.stream(f"data/{population.name}.csv", spill.read("csv"), rows=count)
        spill.close()
        self.progress(population.name, count)
        return {
            "name": population.name,
            "rows": count,
            "files": [f"data/{population.name}.csv", f"data/{population.name}.jsonl"],
            "query": population.sql,
            "parameters": {k: value_text(v) for k, v in params.items()} | {"page": PAGE},
        }

    def _system(self, cur: Any) -> dict[str, Any]:
        cur.execute("SELECT system_identifier::text FROM pg_control_system()")
        (system_id,) = cur.fetchone()
        cur.execute("SELECT current_database(), current_setting('server_version_num')")
        name, version = cur.fetchone()
        return {"system_identifier": system_id, "name": name, "server_version_num": version}

    def build(self, out: Path) -> ExportResult:
        alias = "readonly"
        # Checkpoints first, then the snapshot: every checkpoint read was issued for a chain the
        # snapshot holds whole, so one larger than the chain proves it was cut.
        issued = read_checkpoints(
            system_identifier(alias), self.checkpoint_dir, tenant=self.tenant_id
        ).get(self.tenant_id, [])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=self.level) as archive:
            pack = PackWriter(archive, self.level)
            with transaction.atomic(using=alias), connections[alias].cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(self.tenant_id)])
                database = self._system(cur)
                chain = self._chain_range(cur)
                write_chain(cur, pack, self.tenant_id, chain, self.progress, parallel=self.parallel)
                populations = [self._population(cur, pack, p) for p in POPULATIONS]
                cur.execute(
                    "SELECT l.currency, sum(l.debit), sum(l.credit), count(DISTINCT e.id) "
                    "FROM finance.journal_lines l JOIN finance.journal_entries e "
                    "ON e.id = l.entry_id AND e.tenant_id = l.tenant_id "
                    f"WHERE e.status = 'POSTED' AND {ENTRY_IN_PERIOD} GROUP BY 1 ORDER BY 1",
                    period_params(self.period),
                )
                reconciliation = [
                    {"currency": c, "debit": value_text(d), "credit": value_text(k), "entries": n}
                    for c, d, k, n in cur.fetchall()
                ]
            checkpoints = []
            for checkpoint in issued:
                path = f"checkpoints/{checkpoint.path_name}"
                pack.write(path, checkpoint.note.encode())
                checkpoints.append(
                    {"path": path, "size": checkpoint.size, "head": checkpoint.head.hex()}
                )
            for name, document in sorted(self.documents.items()):
                if callable(document):  # computed from what the export found (the chain)
                    document = document(chain)
                data = json.dumps(
                    document, sort_keys=True, indent=2, ensure_ascii=False, default=str
                )
                pack.write(f"governance/{name}.json", data.encode() + b"\n")
            pack.write("verify.py", VERIFY_SOURCE.read_bytes())
            pack.write("VERIFY.md", VERIFY_MD.read_bytes())
            pack.write("allowed_signers", f"{self.key.name} {self.key.public_openssh}\n".encode())
            manifest = {
                "format": FORMAT,
                "generator": {
                    "name": "aibos-data-fabric",
                    "version": _version(),
                    "git_revision": _git_revision(),
                },
                "tenant": {"id": str(self.tenant_id), "slug": self.tenant_slug},
                "period": self.period.as_json(),
                "database": database,
                "snapshot": "one REPEATABLE READ, READ ONLY transaction as aibos_readonly",
                "chain": chain,
                "gaps": chain["gaps"],
                "checkpoints": checkpoints,
                "populations": populations,
                "reconciliation": {"posted_journal_totals_by_currency": reconciliation},
                "signer": {"name": self.key.name, "public_key": self.key.public_openssh},
                "files": [f.as_json() for f in sorted(pack.files, key=lambda f: f.path)],
            }
            manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2).encode() + b"\n"
            pack.write("manifest.json", manifest_bytes, listed=False)
            pack.write(
                "manifest.json.sig", self.key.sign_ssh(manifest_bytes).encode(), listed=False
            )
        return ExportResult(out, manifest)
