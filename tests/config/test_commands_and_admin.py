"""provider_recommend from the command line and the admin pages: answers with reasons, refuses
bad input by name with a non-zero exit, writes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from config.models import ProviderProfile
from kernel.models import User
from tests.config.test_profiles import load_release
from tests.factories import PASSWORD

MANIFESTS = Path(__file__).resolve().parents[2] / "config" / "providers" / "manifests"

pytestmark = pytest.mark.django_db(databases="__all__")


def test_recommend_from_the_database_prints_ranks_and_exclusions() -> None:
    load_release()
    out = io.StringIO()
    call_command("provider_recommend", "--manifest", str(MANIFESTS / "enterprise.yaml"), stdout=out)
    text = out.getvalue()
    assert text.splitlines()[2].startswith("1. aws-aurora")
    assert "Excluded:" in text and "excluded: iam auth required" in text


def test_recommend_json() -> None:
    load_release()
    out = io.StringIO()
    call_command(
        "provider_recommend",
        "--manifest",
        str(MANIFESTS / "starter.yaml"),
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["ranked"][0]["profile"] == "neon-free"
    assert data["ranked"][0]["components"][0]["reason"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read manifest"),
        (
            "db_requirements:\n  workload: oltp\n  tenant: x\n",
            "unknown field(s) in db_requirements: tenant",
        ),
        (":\n  - [", "not valid YAML"),
    ],
)
def test_bad_manifests_exit_non_zero_naming_the_problem(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "tenant.yaml"
    if content is not None:
        path.write_text(content)
    before = ProviderProfile.objects.using("config").count()
    with pytest.raises(CommandError) as raised:
        call_command("provider_recommend", "--manifest", str(path), stdout=io.StringIO())
    assert message in str(raised.value)
    assert ProviderProfile.objects.using("config").count() == before


def test_a_release_file_can_stand_in_for_the_table() -> None:
    out = io.StringIO()
    call_command(
        "provider_recommend",
        "--manifest",
        str(MANIFESTS / "growth.yaml"),
        "--profiles",
        str(MANIFESTS.parent / "profiles" / "2026-12-04.json"),
        stdout=out,
    )
    assert "1. aws-rds" in out.getvalue()


def sign_in(client: Client) -> None:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"tenant": "tenant-a", "username": "alice@a.test", "password": PASSWORD},
    )
    assert response.status_code == 302, response.content


def test_admin_shows_each_fact_with_as_of_and_source(
    committed: None, client: Client, alice: User
) -> None:
    load_release()
    sign_in(client)
    listing = client.get("/admin/config/providerprofile/")
    assert listing.status_code == 200 and b"aws-aurora" in listing.content
    assert b"Recommend for a manifest" in listing.content
    row = ProviderProfile.objects.using("config").get(name="neon-scale")
    page = client.get(f"/admin/config/providerprofile/{row.pk}/change/")
    assert page.status_code == 200
    assert b"https://neon.com/docs/connect/connection-pooling" in page.content
    assert b"2026-12-01" in page.content and b"as_of" in page.content
    assert client.post(f"/admin/config/providerprofile/{row.pk}/change/", {}).status_code == 403


def test_admin_recommends_for_a_pasted_or_uploaded_manifest(
    committed: None, client: Client, alice: User
) -> None:
    load_release()
    sign_in(client)
    url = "/admin/config/providerprofile/recommend/"
    assert client.get(url).status_code == 200
    pasted = client.post(url, {"text": (MANIFESTS / "regulated.yaml").read_text()})
    assert pasted.status_code == 200
    assert b"1. Amazon RDS for PostgreSQL" in pasted.content
    assert b"no PCI attestation" in pasted.content
    upload = SimpleUploadedFile("t.yaml", (MANIFESTS / "self-hosted.yaml").read_bytes())
    uploaded = client.post(url, {"upload": upload})
    assert b"1. Self-hosted PostgreSQL" in uploaded.content
    bad = client.post(url, {"text": "db_requirements:\n  colour: blue\n"})
    assert bad.status_code == 200 and b"unknown field(s) in db_requirements: colour" in bad.content


def test_the_recommend_page_is_staff_only(client: Client) -> None:
    response = client.get("/admin/config/providerprofile/recommend/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
