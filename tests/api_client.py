"""The API client used by the API tests: a bearer-token wrapper over Django's test client, and
the Cell and administrator personas of tenant A (fixtures registered in tests/conftest.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from kernel import services as kernel_services
from kernel.models import Tenant, User
from tests.factories import CanonFactory, system

# Every list endpoint of the finance API (paths under /api/v1/).
LIST_PATHS = (
    "companies/",
    "accounts/",
    "bank-accounts/",
    "fx-rates/",
    "journals/",
    "payments/",
    "approval-matrices/",
)


def token_for(tenant: Tenant, *, user: User | None = None) -> str:
    canon = None if user else CanonFactory(tenant=tenant)
    _, token = kernel_services.api_credential_issue(
        actor=system(tenant), name="test", user=user, canon=canon
    )
    return token


class Api:
    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/{path}", params, **self.auth)

    def post(
        self, path: str, body: Any = None, *, key: str | None = None, raw: str | None = None
    ) -> Any:
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post(
            f"/api/v1/{path}", data, content_type="application/json", **self.auth, **extra
        )


@pytest.fixture
def cell(client: Client, books: SimpleNamespace) -> Api:
    return Api(client, token_for(books.tenant))


@pytest.fixture
def admin(client: Client, books: SimpleNamespace, alice: User) -> Api:
    return Api(client, token_for(books.tenant, user=alice))
