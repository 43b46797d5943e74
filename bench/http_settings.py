"""The application's settings with the benchmark's floor endpoint in front of its URLs."""

from aibos.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_floor"
