"""Test override: fast password hashing; everything else is the real configuration."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from aibos.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Keys, checkpoints and Trust Test results of a test run live in a directory of its own, never
# in the checkout (a test that needs a key creates one; tests/assurance).
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

_ASSURANCE_DIR = Path(tempfile.mkdtemp(prefix="aibos-test-assurance-"))
SIGNING_KEY_FILE = _ASSURANCE_DIR / "keys" / "signing_ed25519"
AUDIT_CHECKPOINT_DIR = _ASSURANCE_DIR / "checkpoints"
TRUST_TEST_RESULT = _ASSURANCE_DIR / "trust-test" / "results.json"
