"""Config schema: platform configuration, read-only at runtime for every runtime role.

Rows are written at deploy time by the owner (migrations, management commands); the write path
for operators comes with the configuration issue. Provider profiles are a global catalogue;
everything else is per tenant.
"""

from __future__ import annotations

from django.db import models

from aibos.db.governance import TableGovernance
from aibos.db.models import GovernedModel, SoftDeleteMixin, TenantScopedModel, VersionedMixin
from aibos.db.roles import SCHEMA_DEFAULT_GRANTS

CONFIG_GRANTS = SCHEMA_DEFAULT_GRANTS["config"]


def _tenant_key(prefix: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["tenant_id", "id"], name=f"{prefix}_tenant_key")


class ProviderProfile(GovernedModel, VersionedMixin):
    """What a database provider can do (PITR, branching, RLS, extensions): the same facts for
    every tenant, so a global catalogue with no tenant_id."""

    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=50)
    capabilities = models.JSONField(default=dict)

    class Meta:
        db_table = 'config"."provider_profiles'
        constraints = [
            TableGovernance(
                name="config_providerprofile",
                grants=CONFIG_GRANTS,
                rls=None,
                audit="",
                versioned=True,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Setting(TenantScopedModel, VersionedMixin):
    key = models.CharField(max_length=150)
    value = models.JSONField()

    class Meta(TenantScopedModel.Meta):
        db_table = 'config"."settings'
        constraints = [
            _tenant_key("config_setting"),
            models.UniqueConstraint(fields=["tenant_id", "key"], name="config_setting_key_unique"),
            TableGovernance(name="config_setting", grants=CONFIG_GRANTS, versioned=True),
        ]


class Policy(TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    name = models.CharField(max_length=150)
    document = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'config"."policies'
        verbose_name_plural = "policies"
        constraints = [
            _tenant_key("config_policy"),
            models.UniqueConstraint(fields=["tenant_id", "name"], name="config_policy_name_unique"),
            TableGovernance(name="config_policy", grants=CONFIG_GRANTS, versioned=True),
        ]


class Feature(TenantScopedModel, VersionedMixin):
    key = models.CharField(max_length=150)
    enabled = models.BooleanField(default=False)

    class Meta(TenantScopedModel.Meta):
        db_table = 'config"."features'
        constraints = [
            _tenant_key("config_feature"),
            models.UniqueConstraint(fields=["tenant_id", "key"], name="config_feature_key_unique"),
            TableGovernance(name="config_feature", grants=CONFIG_GRANTS, versioned=True),
        ]


class SelectionRule(TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    """Which provider profile serves a tenant's workload, by priority."""

    name = models.CharField(max_length=150)
    priority = models.PositiveIntegerField(default=100)
    condition = models.JSONField(default=dict)
    provider_profile = models.ForeignKey(
        ProviderProfile, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TenantScopedModel.Meta):
        db_table = 'config"."selection_rules'
        constraints = [
            _tenant_key("config_selectionrule"),
            models.UniqueConstraint(
                fields=["tenant_id", "name"], name="config_selectionrule_name_unique"
            ),
            TableGovernance(name="config_selectionrule", grants=CONFIG_GRANTS, versioned=True),
        ]
