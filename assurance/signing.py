"""Ed25519 keys and signatures: checkpoints of the audit chain and evidence manifests.

The key is an unencrypted OpenSSH Ed25519 private key in the file named by
``AIBOS_SIGNING_KEY_FILE`` (settings.SIGNING_KEY_FILE); ``python manage.py signing_keygen``
writes one for development (never commit it). Two signature formats:

- a *signed note* (C2SP signed-note / tlog-checkpoint): text body, blank line, then
  ``— <name> base64(key id || signature)``. Used for checkpoints.
- an *SSH signature* (``ssh-keygen -Y sign`` format, namespace ``aibos-evidence``) of a file,
  verifiable with ``ssh-keygen -Y verify -f allowed_signers -I <name> -n aibos-evidence``.

The evidence pack's verify.py checks both with the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import CommandError

KEY_NAME = "aibos-audit"
SSH_NAMESPACE = "aibos-evidence"
NO_KEY = (
    "No signing key: {path} does not exist. Set AIBOS_SIGNING_KEY_FILE to an OpenSSH Ed25519 "
    "private key, or create a development key with `python manage.py signing_keygen`."
)


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    name: str = KEY_NAME

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_openssh(self) -> str:
        key = self.private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        return key.decode()

    @property
    def key_id(self) -> bytes:
        # C2SP signed-note: SHA-256(name || 0x0A || 0x01 (Ed25519) || public key)[:4]
        return hashlib.sha256(self.name.encode() + b"\n\x01" + self.public_raw).digest()[:4]

    def sign_note(self, body: str) -> str:
        """``body`` (ending in a newline) -> the signed note."""
        if not body.endswith("\n"):
            raise ValueError("a note body ends with a newline")
        signature = self.private.sign(body.encode())
        return f"{body}\n\u2014 {self.name} {base64.b64encode(self.key_id + signature).decode()}\n"

    def sign_ssh(self, data: bytes, namespace: str = SSH_NAMESPACE) -> str:
        """The armored SSHSIG of ``data`` (ssh-keygen -Y sign, SHA-512)."""
        digest = hashlib.sha512(data).digest()
        signed = b"SSHSIG" + _s(namespace.encode()) + _s(b"") + _s(b"sha512") + _s(digest)
        public_blob = _s(b"ssh-ed25519") + _s(self.public_raw)
        signature_blob = _s(b"ssh-ed25519") + _s(self.private.sign(signed))
        blob = (
            b"SSHSIG"
            + struct.pack(">I", 1)
            + _s(public_blob)
            + _s(namespace.encode())
            + _s(b"")
            + _s(b"sha512")
            + _s(signature_blob)
        )
        text = base64.b64encode(blob).decode()
        lines = [text[i : i + 76] for i in range(0, len(text), 76)]
        return (
            "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"
        )


def _s(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def key_path() -> Path:
    return Path(settings.SIGNING_KEY_FILE)


def load_signing_key(path: Path | None = None) -> SigningKey:
    path = path or key_path()
    if not path.exists():
        raise CommandError(NO_KEY.format(path=path))
    try:
        private = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(
            f"Cannot load the signing key {path}: {exc} (an unencrypted OpenSSH Ed25519 key is "
            "expected)."
        ) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise CommandError(f"{path} is not an Ed25519 key.")
    return SigningKey(private)


def generate_signing_key(path: Path) -> SigningKey:
    """Write a new key (mode 0600), its ``.pub`` and an ``allowed_signers`` file beside it."""
    if path.exists():
        raise CommandError(f"{path} exists; remove it first to replace the key.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"Cannot create {path.parent}: {exc}") from exc
    key = SigningKey(Ed25519PrivateKey.generate())
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    path.with_suffix(".pub").write_text(f"{key.public_openssh} {key.name}\n")
    (path.parent / "allowed_signers").write_text(f"{key.name} {key.public_openssh}\n")
    return key


def verify_note(note: str, public_raw: bytes, name: str = KEY_NAME) -> bool:
    """True when ``note`` carries a valid signature line of ``name`` by ``public_raw``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body, sep, signatures = note.partition("\n\n")
    if not sep:
        return False
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public_raw).digest()[:4]
    public = Ed25519PublicKey.from_public_bytes(public_raw)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        if blob[:4] != key_id:
            continue
        try:
            public.verify(blob[4:], (body + "\n").encode())
        except InvalidSignature:
            continue
        return True
    return False
