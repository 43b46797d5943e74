"""Where statements come from: Django migrations, .sql files, the live catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..enforcement import Ignore
from ..findings import Finding
from ..sql import Statement


@dataclass
class Plan:
    """Statements in the order they would run, plus what could not be turned into statements."""

    statements: list[Statement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # parse and render errors
    ignores: list[Ignore] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # migrations or files, for the report
