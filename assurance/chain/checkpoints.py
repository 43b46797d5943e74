"""Signed checkpoints of the audit chains, kept outside the database.

A checkpoint states "chain <origin> had <size> links and its head was <hash>", as a C2SP
tlog-checkpoint signed note::

    aibos.audit/<cluster system identifier>/<database name>/<tenant id>
    <size>
    <head, base64>

    — aibos-audit <base64(key id || Ed25519 signature)>

Files are written once (``<dir>/<system id>/<database>/<tenant id>/<size>.checkpoint``, never
replaced).
Whoever rewrites the chain inside the database, even recomputing every hash, cannot make its
head at an issued size match a checkpoint signed before: ``audit_verify`` and the evidence
pack's verify.py compare both.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections

from assurance.signing import SigningKey

ORIGIN_PREFIX = "aibos.audit"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tenant_id: UUID
    size: int
    head: bytes
    note: str  # the signed text, as written

    @property
    def path_name(self) -> str:
        return f"{self.size:012d}.checkpoint"


def system_identifier(alias: str) -> str:
    """``<cluster system identifier>/<database name>``: the checkpoints of one database never
    vouch for another's chain, in this cluster or another."""
    with connections[alias].cursor() as cur:
        cur.execute("SELECT system_identifier::text, current_database() FROM pg_control_system()")
        system_id, database = cur.fetchone()
        return f"{system_id}/{database}"


def origin(system_id: str, tenant_id: UUID) -> str:
    return f"{ORIGIN_PREFIX}/{system_id}/{tenant_id}"


def make_checkpoint(
    key: SigningKey, system_id: str, tenant_id: UUID, size: int, head: bytes
) -> Checkpoint:
    name = origin(system_id, tenant_id)
    body = f"{name}\n{size}\n{base64.b64encode(head).decode()}\n"
    return Checkpoint(name, tenant_id, size, head, key.sign_note(body))


def parse_checkpoint(note: str) -> Checkpoint:
    body, _, _signature = note.partition("\n\n")
    name, size, head = body.split("\n")[:3]
    tenant = UUID(name.rsplit("/", 1)[1])
    return Checkpoint(name, tenant, int(size), base64.b64decode(head), note)


def checkpoint_dir(system_id: str, base: Path | None = None) -> Path:
    return (base or Path(settings.AUDIT_CHECKPOINT_DIR)) / system_id


def write_checkpoint(
    checkpoint: Checkpoint, system_id: str, base: Path | None = None
) -> Path | None:
    """Write once; an existing checkpoint of the same size is left as it is (returns None)."""
    folder = checkpoint_dir(system_id, base) / str(checkpoint.tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / checkpoint.path_name
    tmp = folder / f".{checkpoint.path_name}.{os.getpid()}.tmp"
    tmp.write_text(checkpoint.note)
    try:
        os.link(tmp, path)  # atomic and refuses to replace
    except FileExistsError:
        return None
    finally:
        tmp.unlink()
    return path


def read_checkpoints(
    system_id: str, base: Path | None = None, *, tenant: UUID | None = None
) -> dict[UUID, list[Checkpoint]]:
    """Every checkpoint issued for this database (or only ``tenant``'s), by tenant, smallest
    size first. A file that is not a checkpoint is an error naming it."""
    found: dict[UUID, list[Checkpoint]] = {}
    root = checkpoint_dir(system_id, base)
    if not root.is_dir():
        return found
    pattern = f"{tenant}/*.checkpoint" if tenant else "*/*.checkpoint"  # <tenant>/<size>
    for path in sorted(root.glob(pattern)):
        try:
            checkpoint = parse_checkpoint(path.read_text())
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not a checkpoint: {exc}") from exc
        found.setdefault(checkpoint.tenant_id, []).append(checkpoint)
    for checkpoints in found.values():
        checkpoints.sort(key=lambda c: c.size)
    return found


def write_heads(
    key: SigningKey, system_id: str, heads: dict[UUID, tuple[int, bytes]], base: Path | None = None
) -> int:
    """Sign and write a checkpoint of each chain head (tenant -> (size, head)); how many new."""
    written = 0
    for tenant, (size, head) in sorted(heads.items()):
        if write_checkpoint(make_checkpoint(key, system_id, tenant, size, head), system_id, base):
            written += 1
    return written
