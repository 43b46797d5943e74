"""API credential tokens: ``aibos_<tenant hex>_<key id>_<secret>``.

The token names its tenant so that the credential can be looked up under that tenant's RLS
scope; the claim counts only once the secret's SHA-256 matches a live credential *inside* that
tenant. A token edited to name another tenant finds nothing. Secrets are 256 random bits, so a
fast hash is the right one (a slow KDF protects low-entropy passwords, not random keys).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

PREFIX = "aibos"
MALFORMED = (
    "Malformed API credential: expected 'Authorization: Bearer aibos_<tenant>_<key>_<secret>'."
)


class MalformedToken(ValueError):
    pass


@dataclass(frozen=True)
class ParsedToken:
    tenant_id: uuid.UUID
    key_id: str
    secret: str

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def new_key_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32).replace("_", "-")


def format_token(tenant_id: uuid.UUID, key_id: str, secret: str) -> str:
    return f"{PREFIX}_{tenant_id.hex}_{key_id}_{secret}"


def parse_token(token: str) -> ParsedToken:
    parts = token.split("_")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise MalformedToken(MALFORMED)
    _, tenant_hex, key_id, secret = parts
    try:
        tenant_id = uuid.UUID(hex=tenant_hex)
    except ValueError as exc:
        raise MalformedToken(MALFORMED) from exc
    if len(key_id) != 16 or not secret:
        raise MalformedToken(MALFORMED)
    return ParsedToken(tenant_id=tenant_id, key_id=key_id, secret=secret)
