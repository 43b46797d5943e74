"""The README claims only what docs/security.md's threat model names an attacker for."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ATTACKERS = [
    "our bug",
    "stolen Cell token",
    "stolen session",
    "SQL on a runtime connection",
    "compromised app server",
    "database administrator",
]


def _readme_claims() -> list[str]:
    intro = (ROOT / "README.md").read_text().split("## Quickstart")[0]
    return [" ".join(c.split()) for c in re.findall(r"\*\*([^*]+)\*\*", intro)]


def _threat_model() -> dict[str, list[str]]:
    section = (ROOT / "docs" / "security.md").read_text().split("## Threat model")[1]
    section = section.split("\n## ")[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| \*\*([^*]+)\*\* \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_every_readme_claim_is_a_row_of_the_threat_model_word_for_word() -> None:
    claims, model = _readme_claims(), _threat_model()
    assert len(claims) >= 6
    assert [c for c in claims if c not in model] == []


def test_every_threat_model_row_names_a_verdict_for_every_attacker() -> None:
    section = (ROOT / "docs" / "security.md").read_text().split("## Threat model")[1]
    header = next(line for line in section.splitlines() if line.startswith("| guarantee |"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == ATTACKERS
    for claim, verdicts in _threat_model().items():
        assert len(verdicts) == len(ATTACKERS), claim
        assert all(v.startswith(("✔", "✘")) for v in verdicts), (claim, verdicts)
