"""The one typed actor: its database spelling, its validation, the request accessor, and what
the tenant context sets from it."""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.test import Client, RequestFactory

from aibos.actors import Actor, ActorKind, attach_actor, request_actor
from aibos.tenancy import tenant_context
from kernel import services
from kernel.models import Tenant, User
from tests.factories import CanonFactory, system
from tests.security.helpers import scalar

T = uuid.UUID("00000000-0000-4000-8000-000000000001")
U = uuid.UUID("00000000-0000-4000-8000-000000000002")


def test_labels_are_the_database_strings() -> None:
    assert Actor.for_user(T, U).label == f"user:{U}"
    assert Actor.for_cell(T, str(U)).label == f"cell:{U}"
    assert Actor.for_command(T, "seed_demo").label == "command:seed_demo"
    assert Actor.anonymous(T, "sign-in").label == "anonymous:sign-in"
    assert str(Actor.for_user(T, U)) == f"user:{U}"


def test_only_a_user_has_a_user_id_and_only_a_cell_a_canon_id() -> None:
    user, cell, command = Actor.for_user(T, U), Actor.for_cell(T, U), Actor.for_command(T, "x")
    assert (user.user_id, user.canon_id, user.kind) == (U, None, ActorKind.USER)
    assert (cell.user_id, cell.canon_id, cell.kind) == (None, U, ActorKind.CELL)
    assert (command.user_id, command.canon_id) == (None, None)


def test_the_credential_is_not_part_of_who_acts() -> None:
    via_token = Actor.for_user(T, U, credential_id=uuid.uuid4())
    assert via_token == Actor.for_user(T, U) and via_token.credential_id is not None


@pytest.mark.parametrize(
    "build",
    [
        lambda: Actor.for_user(T, "not-a-uuid"),
        lambda: Actor.for_cell("'; DROP TABLE x; --", U),
        lambda: Actor.for_command(T, ""),
        lambda: Actor.for_command(T, "has space"),
        lambda: Actor.for_command(T, "x" * 65),
        lambda: Actor(T, "operator", "x"),  # type: ignore[arg-type]
    ],
)
def test_malformed_actors_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_the_request_accessor() -> None:
    request = RequestFactory().get("/")
    assert request_actor(request) is None
    actor = Actor.for_command(T, "x")
    attach_actor(request, actor)
    assert request_actor(request) is actor
    request.META["aibos.actor"] = "user:forged"  # not an Actor: not believed
    assert request_actor(request) is None


@pytest.mark.django_db(databases="__all__")
def test_the_context_sets_the_actors_tenant_user_and_label(tenant_a: Tenant, bob: User) -> None:
    def current() -> tuple[str, str, str]:
        return scalar(
            "kernel",
            "SELECT current_setting('app.tenant_id', true) || ' ' || "
            "current_setting('app.user_id', true) || ' ' || current_setting('app.actor', true)",
        ).split(" ")

    with tenant_context(Actor.for_user(tenant_a.id, bob.pk)) as ctx:
        assert current() == [str(tenant_a.id), str(bob.pk), f"user:{bob.pk}"]
        assert ctx.user_id == bob.pk and ctx.actor_label == f"user:{bob.pk}"
    with tenant_context(system(tenant_a)):
        assert current() == [str(tenant_a.id), "", "command:test"]
        with tenant_context(tenant_a.id) as inner:  # a tenant-only unit keeps the actor
            assert inner.actor == system(tenant_a)
            assert current() == [str(tenant_a.id), "", "command:test"]
    with tenant_context(tenant_a.id) as bare:
        assert bare.actor is None and current() == [str(tenant_a.id), "", ""]
    assert connections["kernel"].in_atomic_block  # the test's own transaction


@pytest.mark.django_db(databases="__all__")
def test_the_middleware_attaches_the_credentials_actor(client: Client, tenant_a: Tenant) -> None:
    canon = CanonFactory(tenant=tenant_a)
    _, token = services.api_credential_issue(actor=system(tenant_a), name="t", canon=canon)
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["actor"] == f"cell:{canon.pk}" and me["tenant_id"] == str(tenant_a.id)
