"""In-process capture of every query a block of code runs (a request, a test, a command).

Django's ``connection.execute_wrapper`` sees each statement with its parameters on every alias,
whoever issues it (ORM, raw cursor). Each captured query keeps its duration, its pglast
fingerprint (computed from the ``$n`` form, so it matches pg_stat_statements' grouping) and the
innermost frame of *our* code that ran it: the line an N+1 finding names.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from optimizer.parsing import django_sql_to_dollar, fingerprint

# Frames from these are plumbing (installed packages, the tenant-scoped manager and database
# layer, this module), never the code location a finding should name.
_SKIP_PARTS = (
    "site-packages",
    "dist-packages",
    str(Path("optimizer") / "capture.py"),
    str(Path("aibos") / "tenancy.py"),
    str(Path("aibos") / "db") + "/",
)


@dataclass(frozen=True)
class CodeLocation:
    file: str  # relative to the project root
    line: int  # 1-based
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


@dataclass
class CapturedQuery:
    alias: str
    sql: str  # as Django sent it (%s placeholders)
    params: tuple[Any, ...]
    duration_ms: float
    location: CodeLocation | None
    dollar_sql: str = ""
    fingerprint: str = ""

    def __post_init__(self) -> None:
        self.dollar_sql = self.dollar_sql or django_sql_to_dollar(self.sql)
        self.fingerprint = self.fingerprint or fingerprint(self.dollar_sql)


@dataclass
class Capture:
    queries: list[CapturedQuery] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.queries)


def _project_location() -> CodeLocation | None:
    root = str(Path(settings.BASE_DIR).resolve())
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(root) and not any(part in filename for part in _SKIP_PARTS):
            rel = filename[len(root) + 1 :]
            if not rel.startswith(".venv"):
                return CodeLocation(rel, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _wrapper(alias: str, capture: Capture) -> Callable[..., Any]:
    def wrapper(
        execute: Callable[..., Any],
        sql: str,
        params: Sequence[Any] | None,
        many: bool,
        context: Any,
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            capture.queries.append(
                CapturedQuery(
                    alias=alias,
                    sql=sql,
                    params=tuple(params or ()) if not many else (),
                    duration_ms=elapsed,
                    location=_project_location(),
                )
            )

    return wrapper


@contextmanager
def capture_queries(aliases: Sequence[str] | None = None) -> Iterator[Capture]:
    """Record every query run on ``aliases`` (default: all) inside the block, in order."""
    capture = Capture()
    with ExitStack() as stack:
        for alias in aliases or list(connections):
            stack.enter_context(connections[alias].execute_wrapper(_wrapper(alias, capture)))
        yield capture
