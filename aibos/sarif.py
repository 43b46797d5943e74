"""A small SARIF 2.1.0 builder shared by the Schema Guardian and the Query Optimizer.

Both apps emit findings for CI (GitHub code scanning reads SARIF). This module knows nothing of
either: give it the tool, its rules and the results, and it returns the document as a dict
(``json.dumps`` it). Lines are 1-based, as SARIF requires. Every result carries a stable
``partialFingerprints`` entry, so a finding keeps its identity across runs and line shifts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = ("none", "note", "warning", "error")
BAD_LEVEL = "SARIF level must be one of {levels}, got {level!r}."
BAD_LINE = "SARIF lines are 1-based; got line {line}."
UNKNOWN_RULE = "Result names rule {rule!r}, which the tool does not declare."
NO_LOCATION = "A result needs a file (with a line) or a logical location, or neither, not both."
# The key of our fingerprint in partialFingerprints; versioned so a change of recipe is visible.
FINGERPRINT_KEY = "aibosFingerprint/v1"


@dataclass(frozen=True)
class Rule:
    id: str  # stable, e.g. "optimizer.missing_index"
    name: str  # PascalCase, e.g. "MissingIndex"
    short_description: str
    default_level: str = "warning"

    def __post_init__(self) -> None:
        _check_level(self.default_level)


@dataclass(frozen=True)
class Result:
    rule_id: str
    message: str
    level: str | None = None  # the rule's default level when None
    file: str | None = None  # repository-relative path, forward slashes
    line: int | None = None  # 1-based
    logical_location: str | None = None  # e.g. "finance.journal_entries" or a query fingerprint
    # What identifies this finding across runs (rule id is always added); defaults to the message.
    fingerprint_parts: Sequence[str] = field(default_factory=tuple)
    properties: dict[str, Any] = field(default_factory=dict)
    # Why an accepted finding is not a defect (a baseline entry's reason): SARIF suppressions,
    # which code-scanning UIs show as dismissed rather than open.
    suppression: str | None = None

    def __post_init__(self) -> None:
        if self.level is not None:
            _check_level(self.level)
        if self.line is not None and self.line < 1:
            raise ValueError(BAD_LINE.format(line=self.line))
        if self.file is not None and self.logical_location is not None:
            raise ValueError(NO_LOCATION)

    def fingerprint(self) -> str:
        parts = [self.rule_id, *(self.fingerprint_parts or (self.message,))]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(BAD_LEVEL.format(levels=LEVELS, level=level))


def build_sarif(
    *,
    tool_name: str,
    tool_version: str,
    rules: Iterable[Rule],
    results: Iterable[Result],
    information_uri: str | None = None,
) -> dict[str, Any]:
    """One run of one tool. Rules are listed in the order given; results refer to them by id
    and index (both, as GitHub's importer prefers)."""
    rule_list = list(rules)
    index = {rule.id: i for i, rule in enumerate(rule_list)}
    driver: dict[str, Any] = {
        "name": tool_name,
        "version": tool_version,
        "rules": [
            {
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.short_description},
                "defaultConfiguration": {"level": rule.default_level},
            }
            for rule in rule_list
        ],
    }
    if information_uri:
        driver["informationUri"] = information_uri
    sarif_results = []
    for result in results:
        if result.rule_id not in index:
            raise ValueError(UNKNOWN_RULE.format(rule=result.rule_id))
        rule = rule_list[index[result.rule_id]]
        entry: dict[str, Any] = {
            "ruleId": result.rule_id,
            "ruleIndex": index[result.rule_id],
            "level": result.level or rule.default_level,
            "message": {"text": result.message},
            "partialFingerprints": {FINGERPRINT_KEY: result.fingerprint()},
        }
        if result.file is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": result.file}}
            if result.line is not None:
                physical["region"] = {"startLine": result.line}
            entry["locations"] = [{"physicalLocation": physical}]
        elif result.logical_location is not None:
            entry["locations"] = [
                {"logicalLocations": [{"fullyQualifiedName": result.logical_location}]}
            ]
        if result.properties:
            entry["properties"] = dict(result.properties)
        if result.suppression:
            entry["suppressions"] = [{"kind": "external", "justification": result.suppression}]
        sarif_results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "results": sarif_results}],
    }
