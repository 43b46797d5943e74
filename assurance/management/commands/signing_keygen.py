"""Create a development Ed25519 signing key (checkpoints, evidence manifests).

Writes the private key (0600) to AIBOS_SIGNING_KEY_FILE (or --out), its .pub, and an
allowed_signers file for `ssh-keygen -Y verify`. Never commit it; in production the key comes
from a secret store and AIBOS_SIGNING_KEY_FILE points at it.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from assurance.signing import generate_signing_key, key_path


class Command(BaseCommand):
    help = "Create a development Ed25519 signing key for checkpoints and evidence packs."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, help="Key file (default: AIBOS_SIGNING_KEY_FILE).")
        parser.add_argument(
            "--if-missing", action="store_true", help="Do nothing when the key already exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["out"] or key_path()
        if options["if_missing"] and path.exists():
            self.stdout.write(f"signing key exists: {path}")
            return
        key = generate_signing_key(path)
        self.stdout.write(f"wrote {path} (private, 0600), {path.with_suffix('.pub')}")
        self.stdout.write(f"public key: {key.public_openssh} {key.name}")
