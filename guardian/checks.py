"""System check: the guardian's configuration and baseline load (``manage.py check``), so a
typo in guardian.toml is found before a deploy's ``migrate`` trips over it."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from .config import ConfigError, project_config
from .enforcement import load_baseline
from .runner import baseline_path


@register()
def check_guardian_config(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    try:
        load_baseline(baseline_path(project_config()))
    except (ConfigError, ValueError) as exc:
        return [Error(str(exc), hint="See docs/guardian.md (configuration).", id="guardian.E001")]
    return []
