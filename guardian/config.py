"""The guardian's configuration: which tables are tenant-scoped, thresholds, levels per environment.

One TOML file (``guardian.toml`` at the project root, or ``AIBOS_GUARDIAN_CONFIG``). In the
governed schemas every table is tenant-scoped unless declared global *with a reason*; elsewhere
the ``[tenant_scope]`` manifest names what is. A bad file is an error, never a silent default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibos.db.roles import SCHEMAS

from .findings import CONFIGURABLE_LEVELS

ERR_UNKNOWN_KEY = "guardian config {path}: unknown key {key!r} in [{table}]"
ERR_BAD_LEVEL = (
    "guardian config {path}: [{table}] {rule} = {level!r}; levels are shadow, warn, block"
)
ERR_NO_REASON = (
    "guardian config {path}: [global_tables] {table} needs a reason (a non-empty string)"
)
ERR_BAD_THRESHOLD = "guardian config {path}: [thresholds] {key} = {value!r}; a non-negative number"
ERR_UNKNOWN_RULE = "guardian config {path}: [{table}] names unknown rule {rule!r}"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Thresholds:
    # Lock-taking DDL on a table at or above either figure blocks; below, it is info.
    lock_rows: int = 100_000
    lock_writes_per_second: float = 50.0
    # Duplicate entities: share of non-standard columns two tables have in common.
    duplicate_similarity: float = 0.8
    duplicate_min_columns: int = 4
    # Functional dependencies are sampled from live tables with at least this many rows.
    dependency_sample_rows: int = 2_000


@dataclass(frozen=True)
class GuardianConfig:
    governed_schemas: tuple[str, ...] = SCHEMAS
    global_tables: Mapping[str, str] = field(default_factory=dict)  # "schema.table" -> reason
    tenant_schemas: tuple[str, ...] = ()  # other schemas whose tables are all tenant-scoped
    tenant_tables: tuple[str, ...] = ()  # other tenant-scoped tables, "schema.table"
    thresholds: Thresholds = Thresholds()
    # environment -> rule -> level; "default" applies to every environment.
    levels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    baseline: str = "guardian-baseline.toml"
    path: str = ""

    def is_tenant_scoped(self, table: str) -> bool:
        schema = table.split(".", 1)[0]
        if table in self.global_tables:
            return False
        return (
            schema in self.governed_schemas
            or schema in self.tenant_schemas
            or table in self.tenant_tables
        )

    def level_for(self, rule: str, environment: str, default: str) -> str:
        for env in (environment, "default"):
            level = self.levels.get(env, {}).get(rule)
            if level:
                return level
        return default


_TOP_KEYS = {
    "governed_schemas",
    "global_tables",
    "tenant_scope",
    "thresholds",
    "levels",
    "baseline",
}


def load_config(path: str | Path, known_rules: set[str] | None = None) -> GuardianConfig:
    path = Path(path)
    if not path.exists():
        return GuardianConfig(path=str(path))
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"guardian config {path}: {exc}") from exc
    return parse_config(data, str(path), known_rules)


def parse_config(
    data: Mapping[str, Any], path: str = "<config>", known_rules: set[str] | None = None
) -> GuardianConfig:
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(ERR_UNKNOWN_KEY.format(path=path, key=key, table="top level"))
    global_tables: dict[str, str] = {}
    for table, reason in data.get("global_tables", {}).items():
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(ERR_NO_REASON.format(path=path, table=table))
        global_tables[table] = reason.strip()
    scope = data.get("tenant_scope", {})
    for key in scope:
        if key not in {"schemas", "tables"}:
            raise ConfigError(ERR_UNKNOWN_KEY.format(path=path, key=key, table="tenant_scope"))
    raw_thresholds = data.get("thresholds", {})
    defaults = Thresholds()
    for key, value in raw_thresholds.items():
        if key not in Thresholds.__dataclass_fields__:
            raise ConfigError(ERR_UNKNOWN_KEY.format(path=path, key=key, table="thresholds"))
        expected = type(getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(ERR_BAD_THRESHOLD.format(path=path, key=key, value=value))
        raw_thresholds = {**raw_thresholds, key: expected(value)}
    levels: dict[str, dict[str, str]] = {}
    for env, rules in data.get("levels", {}).items():
        for rule, level in rules.items():
            table = f"levels.{env}"
            if level not in CONFIGURABLE_LEVELS:
                raise ConfigError(
                    ERR_BAD_LEVEL.format(path=path, table=table, rule=rule, level=level)
                )
            if known_rules is not None and rule not in known_rules:
                raise ConfigError(ERR_UNKNOWN_RULE.format(path=path, table=table, rule=rule))
        levels[env] = dict(rules)
    return GuardianConfig(
        governed_schemas=tuple(data.get("governed_schemas", SCHEMAS)),
        global_tables=global_tables,
        tenant_schemas=tuple(scope.get("schemas", ())),
        tenant_tables=tuple(scope.get("tables", ())),
        thresholds=Thresholds(**raw_thresholds),
        levels=levels,
        baseline=str(data.get("baseline", "guardian-baseline.toml")),
        path=path,
    )


def project_config() -> GuardianConfig:
    """The configuration named by the settings, validated against the registered rules."""
    from django.conf import settings

    from .rules import RULES

    return load_config(settings.GUARDIAN_CONFIG, known_rules=set(RULES))
