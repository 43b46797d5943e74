"""System check: capability facts older than AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS warn.

Provider facts go stale (Neon's Azure integration ends on 31 Jan 2026, say): a warning at every
``manage.py check`` and ``migrate`` is the nudge to re-verify and ship a new release.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import checks

from config.providers.profiles import ProfileDataError, profiles_from_file, stale_facts

STALE = "provider profile {profile}: {field} is {age} days old (as_of {as_of}; limit {limit})"
STALE_HINT = (
    "Re-check the fact at its source URL and ship a new release file and data migration "
    "(docs/providers.md#profiles)."
)
UNREADABLE_HINT = "Fix the newest file in config/providers/profiles/."


@checks.register(checks.Tags.compatibility)
def provider_profiles_fresh(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    # The newest release file is what the latest data migration deploys; reading it keeps the
    # check free of a database connection.
    limit = settings.AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS
    try:
        profiles = profiles_from_file()
    except ProfileDataError as exc:
        return [checks.Error(str(exc), hint=UNREADABLE_HINT, id="config.E001")]
    today = dt.datetime.now(dt.UTC).date()
    return [
        checks.Warning(
            STALE.format(
                profile=s.profile, field=s.field, age=s.age_days, as_of=s.as_of, limit=limit
            ),
            hint=STALE_HINT,
            id="config.W001",
        )
        for s in stale_facts(profiles, today=today, max_age_days=limit)
    ]
