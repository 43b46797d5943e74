"""Recompute the audit hash chains and report every break, classified; exit 1 on any.

    python manage.py audit_verify [--tenant <slug> ...] [--checkpoints DIR] [--public-key FILE]

Reads in one REPEATABLE READ, READ ONLY transaction as aibos_sealer_role (the only role that
reads every tenant's events). Checkpoints (AIBOS_CHECKPOINT_DIR by default) are checked
against the public key of AIBOS_SIGNING_KEY_FILE, or of --public-key (an OpenSSH .pub file):
a checkpoint that does not verify is itself a break.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assurance.chain.checkpoints import read_checkpoints, system_identifier
from assurance.chain.sealer import SEALER_ALIAS
from assurance.chain.verifier import KINDS, verify_all
from assurance.evidence.verify import openssh_ed25519
from assurance.signing import load_signing_key
from kernel.models import Tenant


def public_key_from_openssh(path: Path) -> bytes:
    """The raw Ed25519 key of an OpenSSH ``.pub`` line (``ssh-ed25519 AAAA... [comment]``)."""
    try:
        kind, blob = path.read_text().split()[:2]
        if kind != "ssh-ed25519":
            raise ValueError(f"a {kind} key")
        return openssh_ed25519(blob)
    except (OSError, ValueError, IndexError) as exc:
        raise CommandError(f"{path} is not an OpenSSH ssh-ed25519 public key: {exc}") from exc


class Command(BaseCommand):
    help = "Verify the audit hash chains; list every break (modified, missing, inserted)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--tenant", action="append", default=[], help="Tenant slug (repeatable)."
        )
        parser.add_argument("--checkpoints", type=Path, help="Checkpoint directory.")
        parser.add_argument("--public-key", type=Path, help="OpenSSH public key of the signer.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_ids = None
        if options["tenant"]:
            found = dict(
                Tenant.objects.using("default")
                .filter(slug__in=options["tenant"])
                .values_list("slug", "id")
            )
            unknown = sorted(set(options["tenant"]) - set(found))
            if unknown:
                raise CommandError(f"Unknown tenant slug(s): {', '.join(unknown)}.")
            tenant_ids = [found[s] for s in options["tenant"]]
        public_key: bytes | None = None
        if options["public_key"]:
            public_key = public_key_from_openssh(Path(options["public_key"]))
        else:
            try:
                public_key = load_signing_key().public_raw
            except CommandError:
                self.stderr.write(
                    "WARNING: no public key (--public-key or AIBOS_SIGNING_KEY_FILE): checkpoint "
                    "signatures are NOT verified, only compared."
                )
        system_id = system_identifier(SEALER_ALIAS)
        if options["checkpoints"] and not Path(options["checkpoints"]).is_dir():
            raise CommandError(f"--checkpoints {options['checkpoints']}: no such directory.")
        checkpoints = read_checkpoints(
            system_id, options["checkpoints"] and Path(options["checkpoints"])
        )
        if tenant_ids is not None:
            checkpoints = {t: c for t, c in checkpoints.items() if t in tenant_ids}
        reports, inserted = verify_all(tenant_ids, checkpoints, public_key)
        breaks = [b for r in reports for b in r.breaks] + inserted
        for report in reports:
            self.stdout.write(
                f"chain {report.tenant_id}: {report.size} links, head {report.head.hex()[:16]}…, "
                f"{report.checkpoints} checkpoints, {len(report.breaks)} breaks"
            )
        counts = {kind: sum(b.kind == kind for b in breaks) for kind in KINDS}
        for item in breaks:
            self.stdout.write(f"  BREAK {item}")
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        if breaks:
            raise CommandError(f"audit chain verification FAILED: {summary}")
        self.stdout.write(
            self.style.SUCCESS(f"audit chains verified: {len(reports)} chains, no breaks")
        )
