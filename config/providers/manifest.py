"""A tenant's database requirements manifest (the seeds' ``db_requirements``, CONT_03 §5.1,
plus the hard requirements the selection matrix filters on).

Parsing refuses anything it does not understand, naming the field: a typo such as
``complaince: hipaa`` silently ignored would recommend a provider without the attestation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from config.providers import regions

COMPLIANCE = ("soc2", "pci", "hipaa")
EXTENSIONS = ("pgaudit", "hypopg", "pg_stat_statements", "pg_partman")
CHOICES = {
    "cost_sensitivity": ("high", "medium", "low"),
    "workload": ("oltp", "olap", "mixed"),
    "burstiness": ("spiky", "steady"),
    "budget_mode": ("cost-sensitive", "balanced", "performance"),
    "hosting": ("managed", "self", "any"),
}

MANIFEST_UNREADABLE = "cannot read manifest {path}: {error}"
MANIFEST_NOT_YAML = "manifest {path} is not valid YAML: {error}"
MANIFEST_SHAPE = "manifest must be a mapping with a db_requirements mapping at the top"
UNKNOWN_FIELDS = "unknown field(s) in db_requirements: {fields} (known: {known})"
BAD_CHOICE = "{field}: {value} is not one of {choices}"
BAD_INT = "{field}: expected a whole number >= {minimum}, got {value!r}"
BAD_NUMBER = "{field}: expected a number >= 0, got {value!r}"
BAD_BOOL = "{field}: expected true or false, got {value!r}"
BAD_COMPLIANCE = "compliance: {value!r} is not none or a list of {choices}"
BAD_EXTENSION = "extensions: {value!r} is not a list of {choices}"
BAD_REGION = "region: {value!r} is not a known region or metro (docs/providers.md#regions)"
MISSING = "db_requirements lacks required field(s): {fields}"


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Manifest:
    cost_sensitivity: str
    workload: str
    burstiness: str
    concurrency_target: int
    compliance: tuple[str, ...]
    region: str
    budget_mode: str
    tenant_id: str | None = None
    profile: str | None = None  # the seeds' tenant profile name, for reports only
    budget_usd_month: float | None = None  # None: no ceiling
    branching: bool = False
    pitr_days: float = 0
    private_networking: bool = False
    iam_auth: bool = False
    extensions: tuple[str, ...] = field(default_factory=tuple)
    hosting: str = "managed"

    def with_changes(self, **changes: Any) -> Manifest:
        return replace(self, **changes)


REQUIRED = (
    "cost_sensitivity",
    "workload",
    "burstiness",
    "concurrency_target",
    "compliance",
    "region",
    "budget_mode",
)
KNOWN = (
    *REQUIRED,
    "tenant_id",
    "profile",
    "budget_usd_month",
    "branching",
    "pitr_days",
    "private_networking",
    "iam_auth",
    "extensions",
    "hosting",
)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _choice(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in CHOICES[name]:
        raise ManifestError(
            BAD_CHOICE.format(field=name, value=_shown(value), choices=", ".join(CHOICES[name]))
        )
    return str(value)


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ManifestError(BAD_INT.format(field=name, value=value, minimum=minimum))
    return value


def _number(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ManifestError(BAD_NUMBER.format(field=name, value=value))
    return float(value)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ManifestError(BAD_BOOL.format(field=name, value=value))
    return value


def _compliance(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ManifestError(BAD_COMPLIANCE.format(value=value, choices=", ".join(COMPLIANCE)))
    wanted = {i for i in items if i != "none"}
    if wanted - set(COMPLIANCE) or ("none" in items and len(items) > 1):
        raise ManifestError(BAD_COMPLIANCE.format(value=value, choices=", ".join(COMPLIANCE)))
    return tuple(sorted(wanted))


def manifest_from_mapping(data: Any) -> Manifest:
    if not isinstance(data, Mapping) or not isinstance(data.get("db_requirements"), Mapping):
        raise ManifestError(MANIFEST_SHAPE)
    raw = dict(data["db_requirements"])
    unknown = sorted(set(raw) - set(KNOWN))
    if unknown:
        raise ManifestError(
            UNKNOWN_FIELDS.format(fields=", ".join(unknown), known=", ".join(KNOWN))
        )
    missing = [f for f in REQUIRED if f not in raw]
    if missing:
        raise ManifestError(MISSING.format(fields=", ".join(missing)))
    region = raw["region"]
    if not isinstance(region, str) or not regions.known(region):
        raise ManifestError(BAD_REGION.format(value=region))
    extensions = raw.get("extensions", [])
    if (
        not isinstance(extensions, list)
        or not all(isinstance(e, str) for e in extensions)
        or not set(extensions) <= set(EXTENSIONS)
    ):
        raise ManifestError(BAD_EXTENSION.format(value=extensions, choices=", ".join(EXTENSIONS)))
    budget = raw.get("budget_usd_month")
    return Manifest(
        tenant_id=None if raw.get("tenant_id") is None else str(raw["tenant_id"]),
        profile=None if raw.get("profile") is None else str(raw["profile"]),
        cost_sensitivity=_choice("cost_sensitivity", raw["cost_sensitivity"]),
        workload=_choice("workload", raw["workload"]),
        burstiness=_choice("burstiness", raw["burstiness"]),
        concurrency_target=_int("concurrency_target", raw["concurrency_target"], 1),
        compliance=_compliance(raw["compliance"]),
        region=region,
        budget_mode=_choice("budget_mode", raw["budget_mode"]),
        budget_usd_month=None if budget is None else _number("budget_usd_month", budget),
        branching=_bool("branching", raw.get("branching", False)),
        pitr_days=_number("pitr_days", raw.get("pitr_days", 0)),
        private_networking=_bool("private_networking", raw.get("private_networking", False)),
        iam_auth=_bool("iam_auth", raw.get("iam_auth", False)),
        extensions=tuple(sorted(set(extensions))),
        hosting=_choice("hosting", raw.get("hosting", "managed")),
    )


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without aliases (an expanding anchor is a denial of service, and a manifest
    never needs one) and without duplicate keys (the last one would silently win)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not accepted in a manifest", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def manifest_from_text(text: str, *, name: str = "<manifest>") -> Manifest:
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ManifestError(MANIFEST_NOT_YAML.format(path=name, error=exc)) from exc
    return manifest_from_mapping(data)


def manifest_from_file(path: Path) -> Manifest:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(MANIFEST_UNREADABLE.format(path=path, error=exc)) from exc
    return manifest_from_text(text, name=str(path))
