"""Factories build through the services, as the runtime roles, inside one tenant's context.

A factory never invents a tenant: tenant-scoped factories require one to be passed.
"""

from __future__ import annotations

import uuid
from typing import Any

import factory

from aibos.actors import Actor
from kernel import services
from kernel.models import Canon, Role, Tenant, User

PASSWORD = "correct-horse-battery"


def system(tenant: Tenant | uuid.UUID) -> Actor:
    """The tests' own back-office actor in ``tenant`` (``command:test``)."""
    return Actor.for_command(tenant.id if isinstance(tenant, Tenant) else tenant, "test")


def as_user(user: User) -> Actor:
    return Actor.for_user(user.tenant_id, user.pk)


class TenantFactory(factory.Factory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")

    @classmethod
    def _create(cls, model_class: type[Tenant], **kwargs: Any) -> Tenant:
        return services.tenant_create(**kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = PASSWORD
    is_staff = True

    @classmethod
    def _create(cls, model_class: type[User], tenant: Tenant, **kwargs: Any) -> User:
        return services.user_create(actor=system(tenant), **kwargs)


class RoleFactory(factory.Factory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"role.{n}")

    @classmethod
    def _create(cls, model_class: type[Role], tenant: Tenant, **kwargs: Any) -> Role:
        return services.role_create(actor=system(tenant), **kwargs)


class CanonFactory(factory.Factory):
    class Meta:
        model = Canon

    name = factory.Sequence(lambda n: f"cell-{n}")
    service_url = "http://127.0.0.1:9000"

    @classmethod
    def _create(cls, model_class: type[Canon], tenant: Tenant, **kwargs: Any) -> Canon:
        return services.canon_register(actor=system(tenant), **kwargs)
