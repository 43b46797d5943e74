"""Seal committed audit events into per-tenant hash chains and sign checkpoints of them.

    python manage.py audit_seal            # seal everything final, checkpoint, exit
    python manage.py audit_seal --follow   # keep sealing (a service: run one per database)
    python manage.py audit_seal --status   # how far sealing lags

Connects as aibos_sealer_role (the `sealer` alias). Checkpoints go to AIBOS_CHECKPOINT_DIR,
signed with AIBOS_SIGNING_KEY_FILE; without a key, events are sealed and no checkpoint is
written (say so loudly: the chain is then only as strong as the database's own access control).
"""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assurance.chain.checkpoints import system_identifier, write_heads
from assurance.chain.sealer import (
    SEALER_ALIAS,
    SealBatch,
    SealerError,
    follow,
    seal_status,
    seal_until_caught_up,
)
from assurance.signing import SigningKey, key_path, load_signing_key


class Checkpointer:
    """Collects the heads the sealer extended; signs and writes them at most every N seconds."""

    def __init__(self, key: SigningKey | None, system_id: str, every: float) -> None:
        self.key, self.system_id, self.every = key, system_id, every
        self.pending: dict[UUID, tuple[int, bytes]] = {}
        self.last = time.monotonic()
        self.written = 0

    def add(self, batch: SealBatch, *, force: bool = False) -> None:
        self.pending.update(batch.heads)
        if self.pending and (force or time.monotonic() - self.last >= self.every):
            self.flush()

    def flush(self) -> None:
        if self.key is not None:
            self.written += write_heads(self.key, self.system_id, self.pending)
        self.pending.clear()
        self.last = time.monotonic()


class Command(BaseCommand):
    help = "Seal committed audit events into per-tenant hash chains; write signed checkpoints."

    def add_arguments(self, parser: ArgumentParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--follow", action="store_true", help="Keep sealing until stopped.")
        mode.add_argument("--status", action="store_true", help="Print the sealing lag and exit.")
        parser.add_argument(
            "--interval", type=float, default=0.2, help="Pause between rounds (s, --follow)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["status"]:
            status = seal_status()
            self.stdout.write(
                f"unsealed events: {status.unsealed_events}\n"
                f"oldest unsealed: {status.oldest_unsealed_at or '-'}\n"
                f"lag: {status.lag_seconds:.3f} s\n"
                f"last seal: {status.last_sealed_at or '-'}"
            )
            return
        key: SigningKey | None
        try:
            key = load_signing_key()
        except CommandError:  # no key file: seal, warn (a malformed key is an error below)
            key = None
            self.stderr.write(
                f"WARNING: no signing key at {key_path()}: sealing without checkpoints. "
                "Run `python manage.py signing_keygen` (development) or set AIBOS_SIGNING_KEY_FILE."
            )
        checkpointer = Checkpointer(
            key, system_identifier(SEALER_ALIAS), settings.AUDIT_CHECKPOINT_SECONDS
        )
        try:
            self._seal(options, checkpointer)
        except SealerError as exc:
            raise CommandError(str(exc)) from exc

    def _seal(self, options: dict[str, Any], checkpointer: Checkpointer) -> None:
        if not options["follow"]:
            batch = seal_until_caught_up()
            checkpointer.add(batch, force=True)
            self.stdout.write(
                f"sealed {batch.events} events in {len(batch.heads)} chains; "
                f"{checkpointer.written} checkpoints written"
            )
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("sealing; stop with SIGTERM or Ctrl-C")
        follow(
            interval=options["interval"],
            on_batch=checkpointer.add,
            should_stop=lambda: stopping,
        )
        checkpointer.flush()
        self.stdout.write(f"stopped; {checkpointer.written} checkpoints written")
