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

import csv
import datetime as dt
import hashlib
import io
import json
import multiprocessing as mp
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction

from assurance.chain.canonical import GENESIS, canonical_bytes, event_columns, event_fields, link
from assurance.chain.checkpoints import read_checkpoints
from assurance.signing import SigningKey

FORMAT = "aibos.evidence.v1"
EPOCH = (1980, 1, 1, 0, 0, 0)  # the ZIP format's earliest date: no wall clock in the pack
PAGE = 2000
# Deflate level 1: at 1M events the pack is ~11% larger than at 6 and the export ~20% faster.
COMPRESS_LEVEL = 1
VERIFY_SOURCE = Path(__file__).with_name("verify.py")
VERIFY_MD = Path(__file__).with_name("VERIFY.md")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[str, int], None]


def _text(value: Any) -> Any:
    """A value as the pack states it: exact strings for numbers, ids and times."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (int, Decimal, UUID, dt.date)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return str(value)


def _jsonl(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def safe_cell(value: Any) -> str:
    """RFC 4180 cell text that a spreadsheet will not run as a formula (the JSONL keeps the
    raw value)."""
    if value is None:
        return ""
    text = (
        value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    )
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class Population:
    name: str
    columns: tuple[str, ...]
    sql: str  # selects `columns`, keyset-paged on the first column: %(after)s, %(page)s
    params: Callable[[Period], dict[str, Any]]


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None  # inclusive

    def as_json(self) -> dict[str, str | None]:
        return {"from": _text(self.start), "to": _text(self.end)}


def _period_params(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}


_ENTRY_IN_PERIOD = (
    "(%(start)s::date IS NULL OR e.entry_date >= %(start)s) "
    "AND (%(end)s::date IS NULL OR e.entry_date <= %(end)s)"
)
_PAYMENT_IN_PERIOD = (
    "(%(start)s::date IS NULL OR p.created_at >= %(start)s::date) "
    "AND (%(end)s::date IS NULL OR p.created_at < %(end)s::date + 1)"
)

POPULATIONS = (
    Population(
        "journal_entries",
        (
            "id",
            "company_id",
            "entry_date",
            "reference",
            "memo",
            "status",
            "posting_seq",
            "posted_at",
            "posted_by",
            "created_by",
            "reversal_of_id",
            "line_count",
            "created_at",
        ),
        "SELECT e.id, e.company_id, e.entry_date, e.reference, e.memo, e.status, e.posting_seq, "
        "e.posted_at, e.posted_by, e.created_by, e.reversal_of_id, e.line_count, e.created_at "
        f"FROM finance.journal_entries e WHERE e.id > %(after)s AND {_ENTRY_IN_PERIOD} "
        "ORDER BY e.id LIMIT %(page)s",
        _period_params,
    ),
    Population(
        "journal_lines",
        (
            "id",
            "entry_id",
            "line_no",
            "account_id",
            "debit",
            "credit",
            "currency",
            "txn_amount",
            "fx_rate",
            "fx_rate_id",
            "memo",
        ),
        "SELECT l.id, l.entry_id, l.line_no, l.account_id, l.debit, l.credit, l.currency, "
        "l.txn_amount, l.fx_rate, l.fx_rate_id, l.memo FROM finance.journal_lines l "
        "JOIN finance.journal_entries e ON e.id = l.entry_id AND e.tenant_id = l.tenant_id "
        f"WHERE l.id > %(after)s AND {_ENTRY_IN_PERIOD} ORDER BY l.id LIMIT %(page)s",
        _period_params,
    ),
    Population(
        "payments",
        (
            "id",
            "company_id",
            "payment_type",
            "amount",
            "currency",
            "beneficiary_name",
            "reference",
            "status",
            "requested_by",
            "required_approvals",
            "required_roles",
            "policy_matrix_id",
            "policy_band_id",
            "journal_entry_id",
            "created_at",
            "submitted_at",
            "decided_at",
            "paid_at",
            "cancelled_at",
        ),
        "SELECT p.id, p.company_id, p.payment_type, p.amount, p.currency, p.beneficiary_name, "
        "p.reference, p.status, p.requested_by, p.required_approvals, p.required_roles, "
        "p.policy_matrix_id, p.policy_band_id, p.journal_entry_id, p.created_at, "
        "p.submitted_at, p.decided_at, p.paid_at, p.cancelled_at FROM finance.payments p "
        f"WHERE p.id > %(after)s AND {_PAYMENT_IN_PERIOD} ORDER BY p.id LIMIT %(page)s",
        _period_params,
    ),
    Population(
        "payment_approvals",
        (
            "id",
            "payment_id",
            "level",
            "approver",
            "approver_role",
            "requester",
            "decision",
            "reason",
            "decided_at",
        ),
        "SELECT a.id, a.payment_id, a.level, a.approver, a.approver_role, a.requester, "
        "a.decision, a.reason, a.decided_at FROM finance.payment_approvals a "
        "JOIN finance.payments p ON p.id = a.payment_id AND p.tenant_id = a.tenant_id "
        f"WHERE a.id > %(after)s AND {_PAYMENT_IN_PERIOD} ORDER BY a.id LIMIT %(page)s",
        _period_params,
    ),
)

AUDIT_SQL = (
    "SELECT s.seq, s.event_id, s.hash, "
    + event_columns("e")
    + " FROM kernel.audit_seals s JOIN kernel.audit_events e ON e.id = s.event_id "
    "WHERE s.tenant_id = %(tenant)s AND s.seq > %(after)s::bigint "
    "AND s.seq <= LEAST(%(after)s::bigint + %(page)s, %(last)s::bigint) ORDER BY s.seq"
)
AUDIT_CSV_COLUMNS = (
    "seq",
    "event_id",
    "occurred_at",
    "schema_name",
    "table_name",
    "row_id",
    "operation",
    "actor",
    "db_role",
    "correlation_id",
    "changed_fields",
)


AUDIT_FILES = {
    "jsonl": "data/audit_events.jsonl",
    "seals": "data/audit_seals.csv",
    "csv": "data/audit_events.csv",
}
WORKERS = 2
PARALLEL_FROM = 50_000  # links: below, one process (forking costs more than it saves)


@dataclass
class AuditPart:
    events: int = 0
    head: str | None = None
    gaps: list[list[int]] = field(default_factory=list)
    breaks: list[dict[str, Any]] = field(default_factory=list)


def _split(first: int, last: int, n: int) -> list[tuple[int, int]]:
    size = max(1, -(-(last - first + 1) // n))
    return [(a, min(a + size - 1, last)) for a in range(first, last + 1, size)] or [(first, last)]


def _concatenated(folder: Path, name: str, parts: int) -> Iterator[bytes]:
    for i in range(parts):
        with (folder / f"{name}.{i}").open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk


def _audit_part_in_snapshot(
    params: dict[str, Any],
    snapshot: str,
    tenant_id: UUID,
    first: int,
    last: int,
    previous: str | None,
    folder: Path,
    index: int,
) -> AuditPart:
    """A worker: its own connection as aibos_readonly, in the exporter's snapshot."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(**params) as conn, conn.cursor() as cur:
        conn.autocommit = True  # the transaction below is opened explicitly, with its snapshot
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        if previous is None:
            cur.execute(
                "SELECT hash FROM kernel.audit_seals WHERE tenant_id = %s AND seq = %s::bigint",
                [tenant_id, first - 1],
            )
            row = cur.fetchone()
            previous = bytes(row[0]).hex() if row else None
        part = _audit_part(cur, tenant_id, first, last, previous, folder, index)
        cur.execute("ROLLBACK")
    return part


def _audit_part(
    cur: Any,
    tenant_id: UUID,
    first: int,
    last: int,
    previous_hex: str | None,
    folder: Path,
    index: int,
) -> AuditPart:
    """Links first..last: canonical lines, seals, the spreadsheet view, each link checked
    against the one before (the pack's verify.py fails on the same breaks)."""
    part = AuditPart()
    previous = bytes.fromhex(previous_hex) if previous_hex is not None else None
    expected = first
    jsonl: list[bytes] = []
    seals = _CsvBuffer(("seq", "event_id", "hash"), header=index == 0)
    human = _CsvBuffer(AUDIT_CSV_COLUMNS, header=index == 0)
    files = {name: (folder / f"{name}.{index}").open("wb") for name in AUDIT_FILES}
    try:
        for after in range(first - 1, last, PAGE):
            cur.execute(
                AUDIT_SQL, {"tenant": tenant_id, "last": last, "after": after, "page": PAGE}
            )
            for seq, event_id, stored, *event in cur.fetchall():
                stored = bytes(stored)
                if seq != expected:
                    part.gaps.append([expected, seq - 1])
                    previous = None
                fields = event_fields(tuple(event))
                line = canonical_bytes(fields)
                if previous is not None and link(previous, line) != stored:
                    part.breaks.append({"seq": seq, "event_id": str(event_id), "kind": "modified"})
                previous = stored
                jsonl.append(line + b"\n")
                part.head = stored.hex()
                seals.add([str(seq), str(event_id), part.head])
                human.add([str(seq), fields["id"], *(fields[c] for c in AUDIT_CSV_COLUMNS[2:])])
                part.events += 1
                expected = seq + 1
            files["jsonl"].write(b"".join(jsonl))
            files["seals"].write(seals.take())
            files["csv"].write(human.take())
            jsonl.clear()
        files["seals"].write(seals.take())  # the headers, when the range is empty
        files["csv"].write(human.take())
        if expected <= last:
            part.gaps.append([expected, last])
    finally:
        for fh in files.values():
            fh.close()
    return part


@dataclass
class PackFile:
    path: str
    sha256: str
    bytes: int
    rows: int | None

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes, "rows": self.rows}


@dataclass
class PackWriter:
    zip: zipfile.ZipFile
    level: int
    files: list[PackFile] = field(default_factory=list)

    def _info(self, path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = self.level  # type: ignore[attr-defined]  # 3.11 name
        info.external_attr = 0o100644 << 16
        info.create_system = 3
        return info

    def stream(self, path: str, chunks: Iterator[bytes], rows: int | None = None) -> PackFile:
        digest, size, counted = hashlib.sha256(), 0, 0
        with self.zip.open(self._info(path), "w", force_zip64=True) as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                counted += 1
        record = PackFile(path, digest.hexdigest(), size, counted if rows is None else rows)
        self.files.append(record)
        return record

    def write(self, path: str, data: bytes, rows: int | None = None, listed: bool = True) -> None:
        with self.zip.open(self._info(path), "w", force_zip64=True) as out:
            out.write(data)
        if listed:
            self.files.append(PackFile(path, hashlib.sha256(data).hexdigest(), len(data), rows))


class _CsvBuffer:
    def __init__(self, columns: tuple[str, ...], *, header: bool = True) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")  # RFC 4180
        if header:
            self.writer.writerow(columns)
        self.rows = 0

    def add(self, values: list[Any]) -> None:
        self.writer.writerow([safe_cell(v) for v in values])
        self.rows += 1

    def take(self) -> bytes:
        data = self.buffer.getvalue().encode()
        self.buffer.seek(0)
        self.buffer.truncate()
        return data


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
    ) -> None:
        self.tenant_id, self.tenant_slug, self.key = tenant_id, tenant_slug, key
        self.period = period or Period(None, None)
        self.documents = documents or {}
        self.checkpoint_dir = checkpoint_dir
        self.level = compress_level
        self.progress = progress or (lambda name, n: None)

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
        cur.execute(
            "SELECT count(*) FROM kernel.audit_events e WHERE e.tenant_id = %s "
            "AND NOT EXISTS (SELECT 1 FROM kernel.audit_seals s WHERE s.event_id = e.id) "
            "AND (%s::timestamptz IS NULL OR e.occurred_at >= %s) "
            "AND (%s::timestamptz IS NULL OR e.occurred_at < %s)",
            [self.tenant_id, start, start, end, end],
        )
        (unsealed,) = cur.fetchone()
        previous = GENESIS
        if first and first > 1:
            cur.execute(
                "SELECT hash FROM kernel.audit_seals WHERE tenant_id = %s AND seq = %s",
                [self.tenant_id, first - 1],
            )
            row = cur.fetchone()
            previous = bytes(row[0]) if row else GENESIS
        return {
            "tenant_id": str(self.tenant_id),
            "first_seq": first or 1,
            "last_seq": last or 0,
            "previous_hash": previous.hex(),
            "unsealed_events_in_period": unsealed,
        }

    def _audit(self, cur: Any, pack: PackWriter, chain: dict[str, Any]) -> None:
        """The chain's three files. Canonicalising is the export's main cost, so a long chain is
        cut into contiguous parts, each read by a worker process in THIS transaction's snapshot
        (``pg_export_snapshot``: every part sees exactly what this transaction sees) and written
        to files of its own, then streamed into the ZIP in order."""
        first, last = chain["first_seq"], chain["last_seq"]
        parts = _split(first, last, WORKERS if last - first >= PARALLEL_FROM else 1)
        with tempfile.TemporaryDirectory(prefix="aibos-evidence-") as folder:
            if len(parts) == 1:
                results = [
                    _audit_part(
                        cur, self.tenant_id, first, last, chain["previous_hash"], Path(folder), 0
                    )
                ]
            else:
                cur.execute("SELECT pg_export_snapshot()")
                (snapshot,) = cur.fetchone()
                # Plain connection settings only (Django's adapters context does not pickle).
                params = {
                    k: v
                    for k, v in connections["readonly"].get_connection_params().items()
                    if isinstance(v, (str, int, float, bool))
                }
                ctx = mp.get_context("fork")
                with ProcessPoolExecutor(len(parts), mp_context=ctx) as pool:
                    futures = [
                        pool.submit(
                            _audit_part_in_snapshot,
                            params,
                            snapshot,
                            self.tenant_id,
                            a,
                            b,
                            chain["previous_hash"] if i == 0 else None,
                            Path(folder),
                            i,
                        )
                        for i, (a, b) in enumerate(parts)
                    ]
                    results = [f.result() for f in futures]
            events = sum(r.events for r in results)
            self.progress("audit_events", events)
            for name, path in AUDIT_FILES.items():
                pack.stream(path, _concatenated(Path(folder), name, len(results)), rows=events)
        heads = [r.head for r in results if r.head is not None]
        chain.update(
            events=events,
            head_hash=heads[-1] if heads else chain["previous_hash"],
            gaps=[g for r in results for g in r.gaps],
            breaks=[b for r in results for b in r.breaks],
        )

    def _population(self, cur: Any, pack: PackWriter, population: Population) -> dict[str, Any]:
        params = population.params(self.period)
        spill = SpooledFiles()
        table = _CsvBuffer(population.columns)
        lines: list[bytes] = []
        count = 0
        first = "00000000-0000-0000-0000-000000000000"
        for row in self._pages(cur, population.sql, params, lambda r: r[0], first):
            record = {c: _text(v) for c, v in zip(population.columns, row, strict=True)}
            lines.append(_jsonl(record) + b"\n")
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
            "parameters": {k: _text(v) for k, v in params.items()} | {"page": PAGE},
        }

    def _system(self, cur: Any) -> dict[str, Any]:
        cur.execute("SELECT system_identifier::text FROM pg_control_system()")
        (system_id,) = cur.fetchone()
        cur.execute("SELECT current_database(), current_setting('server_version_num')")
        name, version = cur.fetchone()
        return {"system_identifier": system_id, "name": name, "server_version_num": version}

    def build(self, out: Path) -> ExportResult:
        alias = "readonly"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=self.level) as archive:
            pack = PackWriter(archive, self.level)
            with transaction.atomic(using=alias), connections[alias].cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(self.tenant_id)])
                database = self._system(cur)
                chain = self._chain_range(cur)
                self._audit(cur, pack, chain)
                populations = [self._population(cur, pack, p) for p in POPULATIONS]
                cur.execute(
                    "SELECT l.currency, sum(l.debit), sum(l.credit), count(DISTINCT e.id) "
                    "FROM finance.journal_lines l JOIN finance.journal_entries e "
                    "ON e.id = l.entry_id AND e.tenant_id = l.tenant_id "
                    f"WHERE e.status = 'POSTED' AND {_ENTRY_IN_PERIOD} GROUP BY 1 ORDER BY 1",
                    _period_params(self.period),
                )
                reconciliation = [
                    {"currency": c, "debit": _text(d), "credit": _text(k), "entries": n}
                    for c, d, k, n in cur.fetchall()
                ]
            checkpoints = []
            issued = read_checkpoints(
                f"{database['system_identifier']}/{database['name']}", self.checkpoint_dir
            )
            for checkpoint in issued.get(self.tenant_id, []):
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


class SpooledFiles:
    """Per-file spill buffers on disk: a population is read once and written to several files,
    without holding any of them in memory."""

    def __init__(self) -> None:
        import tempfile

        self._files: dict[str, IO[bytes]] = {}
        self._tempfile = tempfile

    def add(self, name: str, data: bytes) -> None:
        if name not in self._files:
            self._files[name] = self._tempfile.TemporaryFile()
        self._files[name].write(data)

    def read(self, name: str) -> Iterator[bytes]:
        fh = self._files[name]
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            yield chunk

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
