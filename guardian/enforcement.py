"""From findings to a verdict: configured levels per environment, the baseline of accepted
findings, inline ignores (each with a reason and an expiry date), and acknowledgements."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import ConfigError, GuardianConfig
from .findings import BLOCK, INFO, Finding, Location
from .rules import RULES, rule

IGNORE_EXPIRED = rule(
    "ignore-expired", BLOCK, "enforcement", "an inline ignore whose expiry date has passed"
)
IGNORE_INVALID = rule(
    "ignore-invalid",
    BLOCK,
    "enforcement",
    "an inline ignore without a known rule, a reason or an expiry date",
)

ERR_BASELINE = "guardian baseline {path}: entry {n} needs id and a non-empty reason"

# -- guardian-ignore: rule-id[,rule-id] until=2027-01-31 reason="why this is acceptable"
_IGNORE = re.compile(r"guardian-ignore:?\s*(?P<body>.*)$", re.MULTILINE)
_FIELD = re.compile(r'(?P<k>until|reason)=(?:"(?P<q>[^"]*)"|(?P<v>\S+))')


@dataclass(frozen=True)
class Ignore:
    rules: tuple[str, ...]
    reason: str
    until: dt.date | None
    location: Location
    raw: str = ""


def parse_ignores(text: str, location: Location) -> list[Ignore]:
    """Inline ignores in SQL comments (``text`` is the comment block before a statement)."""
    out = []
    for m in _IGNORE.finditer(text):
        body = m.group("body").strip()
        rules_part = _FIELD.split(body, maxsplit=1)[0] if _FIELD.search(body) else body
        fields = {f.group("k"): f.group("q") or f.group("v") or "" for f in _FIELD.finditer(body)}
        out.append(
            _ignore(
                rules_part, fields.get("reason", ""), fields.get("until", ""), location, m.group(0)
            )
        )
    return out


def ignore_from_mapping(entry: dict[str, object], location: Location) -> Ignore:
    """``Migration.guardian_ignore = [{"rule": …, "reason": …, "until": "2027-01-31"}]``."""
    rules = entry.get("rule") or entry.get("rules") or ""
    rules_text = ",".join(rules) if isinstance(rules, list | tuple) else str(rules)
    return _ignore(
        rules_text, str(entry.get("reason", "")), str(entry.get("until", "")), location, repr(entry)
    )


def _ignore(rules_text: str, reason: str, until: str, location: Location, raw: str) -> Ignore:
    rules = tuple(r.strip() for r in rules_text.replace(" ", ",").split(",") if r.strip())
    try:
        day = dt.date.fromisoformat(until) if until else None
    except ValueError:
        day = None
    return Ignore(rules=rules, reason=reason.strip(), until=day, location=location, raw=raw)


def check_ignores(ignores: Iterable[Ignore], today: dt.date) -> list[Finding]:
    out = []
    for ig in ignores:
        problems = []
        unknown = [r for r in ig.rules if r not in RULES]
        if not ig.rules or unknown:
            problems.append(f"unknown rule {', '.join(unknown)}" if unknown else "no rule named")
        if not ig.reason:
            problems.append('no reason="…"')
        if ig.until is None:
            problems.append("no until=YYYY-MM-DD")
        if problems:
            out.append(
                Finding(
                    rule=IGNORE_INVALID.id,
                    level=IGNORE_INVALID.default,
                    message=f"inline ignore {ig.raw.strip()!r}: {'; '.join(problems)}.",
                    object=",".join(ig.rules) or "?",
                    location=ig.location,
                )
            )
        elif ig.until is not None and ig.until < today:
            out.append(
                Finding(
                    rule=IGNORE_EXPIRED.id,
                    level=IGNORE_EXPIRED.default,
                    message=f"the ignore of {', '.join(ig.rules)} expired on {ig.until} "
                    f"(reason given: {ig.reason}). Fix the finding or renew the ignore.",
                    object=",".join(ig.rules),
                    location=ig.location,
                )
            )
    return out


@dataclass(frozen=True)
class BaselineEntry:
    id: str
    reason: str


def load_baseline(path: str | Path) -> dict[str, BaselineEntry]:
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"guardian baseline {path}: {exc}") from exc
    out = {}
    for n, entry in enumerate(data.get("accepted", []), start=1):
        fid, reason = str(entry.get("id", "")), str(entry.get("reason", "")).strip()
        if not fid or not reason:
            raise ConfigError(ERR_BASELINE.format(path=path, n=n))
        out[fid] = BaselineEntry(id=fid, reason=reason)
    return out


def baseline_toml(findings: Iterable[Finding]) -> str:
    """A baseline accepting ``findings``; every reason must be written by a person."""
    lines = [
        "# Accepted Schema Guardian findings. Each entry must say why it is acceptable.",
        "",
    ]
    for f in sorted(findings, key=lambda f: f.id):
        lines += [
            "[[accepted]]",
            f'id = "{f.id}"',
            f"# {f.level} {f.rule} {f.object} at {f.location}",
            'reason = ""',
            "",
        ]
    return "\n".join(lines)


@dataclass
class Verdict:
    findings: list[Finding]
    acknowledged: frozenset[str] = frozenset()
    stale_baseline: list[str] = field(default_factory=list)

    @property
    def stopping(self) -> list[Finding]:
        return [f for f in self.findings if f.stops(self.acknowledged)]

    @property
    def ok(self) -> bool:
        return not self.stopping


def enforce(
    findings: Sequence[Finding],
    config: GuardianConfig,
    environment: str,
    *,
    baseline: dict[str, BaselineEntry] | None = None,
    ignores: Sequence[Ignore] = (),
    acknowledged: Iterable[str] = (),
    today: dt.date | None = None,
    check_stale: bool = True,
) -> Verdict:
    today = today or dt.date.today()
    baseline = baseline or {}
    out: list[Finding] = []
    seen: set[str] = set()
    for f in list(findings) + check_ignores(ignores, today):
        if f.level != INFO:
            r = RULES.get(f.rule)
            f = replace(f, level=config.level_for(f.rule, environment, r.default if r else f.level))
        accepted = ""
        if f.id in baseline:
            accepted = f"baseline: {baseline[f.id].reason}"
        else:
            for ig in ignores:
                same_place = ig.location == f.location or (
                    ig.location.source == "migration"
                    and ig.location.migration == f.location.migration
                )
                live = ig.until is not None and ig.until >= today and ig.reason
                if same_place and f.rule in ig.rules and live:
                    accepted = f"ignored until {ig.until}: {ig.reason}"
                    break
        out.append(replace(f, accepted=accepted) if accepted else f)
        seen.add(f.id)
    stale = sorted(set(baseline) - seen) if check_stale else []
    order = {lvl: i for i, lvl in enumerate((BLOCK, "warn", "shadow", INFO))}
    out.sort(
        key=lambda f: (
            order.get(f.level, 9),
            f.location.migration or f.location.path,
            f.location.operation,
            f.location.line,
            f.rule,
            f.object,
        )
    )
    acks = frozenset(a.strip() for item in acknowledged for a in item.split(",") if a.strip())
    return Verdict(findings=out, acknowledged=acks, stale_baseline=stale)
