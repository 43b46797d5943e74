"""The pack's building blocks: exact value text, spreadsheet-safe CSV, deterministic ZIP entries
streamed while hashed, and spill files (a population is read once, written to several files)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from assurance.chain.canonical import utc_text

EPOCH = (1980, 1, 1, 0, 0, 0)  # the ZIP format's earliest date: no wall clock in the pack
PAGE = 2000  # rows per read, links per chain window
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def value_text(value: Any) -> Any:
    """A value as the pack states it: exact strings for numbers, ids and times."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dt.datetime):
        return utc_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # 0.00000001, never 1E-8
    if isinstance(value, (int, UUID, dt.date)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [value_text(v) for v in value]
    if isinstance(value, dict):
        return {k: value_text(v) for k, v in value.items()}
    return str(value)


def jsonl_line(row: dict[str, Any]) -> bytes:
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


class CsvBuffer:
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


class SpooledFiles:
    """Per-file spill buffers on disk: a population is read once and written to several files,
    without holding any of them in memory."""

    def __init__(self) -> None:
        self._files: dict[str, IO[bytes]] = {}

    def add(self, name: str, data: bytes) -> None:
        if name not in self._files:
            self._files[name] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._files[name].write(data)

    def read(self, name: str) -> Iterator[bytes]:
        fh = self._files[name]
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            yield chunk

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
