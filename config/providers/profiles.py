"""Capability profiles: every fact carries its value, the date it was known true, its source
URL and whether anyone checked it at the source.

Profiles come from the database (``config.provider_profiles``, loaded by a data migration) or,
for tooling and tests, from a release file in ``config/providers/profiles/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

# Every profile states these; selection and the admin rely on each being present.
REQUIRED_FIELDS = (
    "postgres_versions",
    "pooling",
    "max_client_connections",
    "rls",
    "extensions",
    "branching",
    "pitr_days",
    "scale_to_zero",
    "iam_auth",
    "private_networking",
    "compliance",
    "regions",
    "performance",
    "cost_model",
)

FIELD_MALFORMED = "profile {profile}: field {field} lacks {missing}"
FIELD_MISSING = "profile {profile}: required fields missing: {fields}"
RELEASE_UNREADABLE = "cannot read provider profile release {path}: {error}"


class ProfileDataError(ValueError):
    pass


@dataclass(frozen=True)
class Fact:
    value: Any
    as_of: dt.date
    source: str
    verified: bool
    note: str

    def age_days(self, today: dt.date) -> int:
        return (today - self.as_of).days


@dataclass(frozen=True)
class Profile:
    name: str
    provider: str
    label: str
    hosting: str  # "managed" | "self"
    release: str
    facts: Mapping[str, Fact]

    def fact(self, field: str) -> Fact:
        return self.facts[field]

    def value(self, field: str, default: Any = None) -> Any:
        fact = self.facts.get(field)
        return default if fact is None else fact.value


FIELD_BAD = "profile {profile}, field {field}: {why}"


def _fact(profile: str, field: str, raw: Mapping[str, Any]) -> Fact:
    missing = [key for key in ("value", "as_of", "source", "verified") if key not in raw]
    if missing:
        raise ProfileDataError(
            FIELD_MALFORMED.format(profile=profile, field=field, missing=", ".join(missing))
        )
    try:
        as_of = dt.date.fromisoformat(str(raw["as_of"]))
    except ValueError as exc:
        raise ProfileDataError(FIELD_BAD.format(profile=profile, field=field, why=exc)) from exc
    if not isinstance(raw["verified"], bool):
        # "false" as a string would read as True.
        why = f"verified must be true or false, not {raw['verified']!r}"
        raise ProfileDataError(FIELD_BAD.format(profile=profile, field=field, why=why))
    return Fact(
        value=raw["value"],
        as_of=as_of,
        source=str(raw["source"]),
        verified=raw["verified"],
        note=str(raw.get("note", "")),
    )


def profile_from_data(*, name: str, provider: str, capabilities: Mapping[str, Any]) -> Profile:
    fields = capabilities.get("fields", {})
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise ProfileDataError(FIELD_MISSING.format(profile=name, fields=", ".join(missing)))
    return Profile(
        name=name,
        provider=provider,
        label=str(capabilities.get("label", name)),
        hosting=str(capabilities.get("hosting", "managed")),
        release=str(capabilities.get("release", "")),
        facts={field: _fact(name, field, raw) for field, raw in sorted(fields.items())},
    )


def latest_release_path() -> Path:
    # Release files are named by date, so the lexical maximum is the newest.
    return max(PROFILES_DIR.glob("*.json"))


def profiles_from_file(path: Path | None = None) -> tuple[Profile, ...]:
    path = path or latest_release_path()
    try:
        release = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProfileDataError(RELEASE_UNREADABLE.format(path=path, error=exc)) from exc
    try:
        profiles = [
            profile_from_data(
                name=p["name"],
                provider=p["provider"],
                capabilities={**p["capabilities"], "release": release["release"]},
            )
            for p in release["profiles"]
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProfileDataError(
            RELEASE_UNREADABLE.format(path=path, error=f"missing or wrong {exc}")
        ) from exc
    return tuple(sorted(profiles, key=lambda p: p.name))


def profiles_from_db(*, using: str = "config") -> tuple[Profile, ...]:
    from config.models import ProviderProfile

    rows = ProviderProfile.objects.using(using).order_by("name")
    return tuple(
        profile_from_data(name=r.name, provider=r.provider, capabilities=r.capabilities)
        for r in rows
    )


@dataclass(frozen=True)
class StaleFact:
    profile: str
    field: str
    as_of: dt.date
    age_days: int


def stale_facts(
    profiles: Iterable[Profile], *, today: dt.date, max_age_days: int
) -> tuple[StaleFact, ...]:
    return tuple(
        StaleFact(profile=p.name, field=field, as_of=fact.as_of, age_days=fact.age_days(today))
        for p in profiles
        for field, fact in p.facts.items()
        if fact.age_days(today) > max_age_days
    )
