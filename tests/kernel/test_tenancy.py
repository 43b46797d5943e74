"""The tenant context: transaction-local, restored when nested, explicit everywhere."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from aibos.actors import Actor
from aibos.tenancy import current_context, tenant_context, tenant_statement
from kernel.models import Role, Tenant, User
from tests.security.helpers import scalar

pytestmark = pytest.mark.django_db(databases="__all__")


def _tenant_var(alias: str = "kernel") -> str | None:
    return scalar(alias, "SELECT current_setting('app.tenant_id', true)")


def test_nested_context_restores_previous_values_when_it_ends(tenant_a: Tenant) -> None:
    # The test itself runs in an outer transaction on every alias, so the context is nested.
    assert connections["kernel"].in_atomic_block
    before = _tenant_var()
    with tenant_context(Actor.for_command(tenant_a.id, "outer")):
        assert _tenant_var() == str(tenant_a.id)
        with tenant_context(Actor.for_command(tenant_a.id, "inner")):
            assert scalar("kernel", "SELECT current_setting('app.actor', true)") == "command:inner"
        assert scalar("kernel", "SELECT current_setting('app.actor', true)") == "command:outer"
    assert _tenant_var() in (before, "", None)
    assert current_context() is None


def test_nested_context_inherits_actor_and_correlation(tenant_a: Tenant) -> None:
    with (
        tenant_context(Actor.for_command(tenant_a.id, "svc"), correlation_id="c-1"),
        tenant_context(tenant_a.id, using=["finance"]) as inner,
    ):
        assert (inner.actor, inner.correlation_id) == (Actor.for_command(tenant_a.id, "svc"), "c-1")
        assert inner.actor_label == "command:svc"


def test_a_nested_user_reaches_an_alias_only_an_outer_context_had_set(
    tenant_a: Tenant, bob: User
) -> None:
    """A command's context (all aliases, no user) -> a service's unit as bob on finance -> a
    kernel call as bob: the kernel connection carries the command's values, not bob's, so the
    innermost context must set them (the approval grant is signed for app.user_id)."""
    with (
        tenant_context(Actor.for_command(tenant_a.id, "test")),
        tenant_context(Actor.for_user(tenant_a.id, bob.pk), using=["finance"]),
    ):
        assert scalar("kernel", "SELECT current_setting('app.user_id', true)") == ""
        with tenant_context(Actor.for_user(tenant_a.id, bob.pk), using=["kernel"]):
            assert scalar("kernel", "SELECT current_setting('app.user_id', true)") == str(bob.pk)
        assert scalar("kernel", "SELECT current_setting('app.user_id', true)") == ""


def test_context_only_touches_the_aliases_it_names(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a.id, using=["finance"]):
        assert _tenant_var("finance") == str(tenant_a.id)
        assert _tenant_var("kernel") in ("", None)


def test_unknown_alias_is_refused(tenant_a: Tenant) -> None:
    with (
        pytest.raises(ValueError, match="tenant-scoped aliases"),
        tenant_context(tenant_a.id, using=["default"]),
    ):
        pass


def test_seed_demo_is_idempotent_and_says_how_to_get_a_new_token(committed: None) -> None:
    # Committed: the approval guard reads the seeded users through the finance connection.
    first, again = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=again)
    for slug in ("acme", "globex"):
        # .ci/run reads the first run's token from this exact line.
        assert (
            f"\n{slug}: API token for payments-cell (shown once): aibos_" in f"\n{first.getvalue()}"
        )
        assert (
            f"{slug}: the payments-cell API token was shown when it was issued" in again.getvalue()
        )
        assert (
            f"manage.py api_credential_issue --tenant {slug} --canon payments-cell --name"
            in again.getvalue()
        )
    assert "aibos_" not in again.getvalue()
    tenants = Tenant.objects.filter(slug__in=["acme", "globex"]).order_by("slug")
    assert [t.slug for t in tenants] == ["acme", "globex"]
    from finance.models import Company, JournalEntry, Payment
    from kernel.models import User

    with tenant_context(tenants[0].id):
        assert User.objects.count() == 3
        assert Company.objects.count() == 2
        # Two companies, one payment in every status each; posted and draft journals.
        statuses = sorted(Payment.objects.values_list("status", flat=True))
        assert statuses == sorted([s.value for s in Payment.Status] * 2)
        assert set(JournalEntry.objects.values_list("status", flat=True)) == {"DRAFT", "POSTED"}
    with tenant_context(tenants[1].id):
        assert User.objects.count() == 2
        assert Company.objects.count() == 2


def test_nested_unit_of_work_with_the_same_values_costs_no_extra_statement(
    tenant_a: Tenant,
) -> None:
    from django.test.utils import CaptureQueriesContext

    with tenant_context(Actor.for_command(tenant_a.id, "svc"), correlation_id="c-2"):
        assert _tenant_var() == str(tenant_a.id)
        with CaptureQueriesContext(connections["kernel"]) as queries, tenant_context(tenant_a.id):
            assert _tenant_var() == str(tenant_a.id)
        assert not [q for q in queries.captured_queries if "set_config" in q["sql"]]
        with (
            CaptureQueriesContext(connections["kernel"]) as queries,
            tenant_context(Actor.for_command(tenant_a.id, "other")),
        ):
            assert scalar("kernel", "SELECT current_setting('app.actor', true)") == "command:other"
        assert [q for q in queries.captured_queries if "set_config" in q["sql"]]
        assert scalar("kernel", "SELECT current_setting('app.actor', true)") == "command:svc"


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_alias_the_unit_of_work_never_uses_costs_no_statement(
    committed: None, tenant_a: Tenant
) -> None:
    from django.test.utils import CaptureQueriesContext

    # Outside any test transaction, as in a request: not even BEGIN/COMMIT reach the server.

    with CaptureQueriesContext(connections["finance"]) as finance_queries:
        with tenant_context(tenant_a.id):
            assert _tenant_var("kernel") == str(tenant_a.id)
    # Django's debug log lists the transaction markers; psycopg sends neither when no statement
    # ran (it opens the server transaction lazily, and COMMIT on an idle connection is a no-op).
    assert [q["sql"] for q in finance_queries.captured_queries] in ([], ["BEGIN", "COMMIT"])


def test_variables_are_set_before_a_nested_savepoint_not_inside_it(tenant_a: Tenant) -> None:
    """If the first statement of the outer context came from a nested block that rolls back,
    the outer context must still carry its tenant afterwards."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    with tenant_context(Actor.for_command(tenant_a.id, "outer")):
        with pytest.raises(Rollback), transaction.atomic(using="kernel"):
            assert _tenant_var() == str(tenant_a.id)
            raise Rollback
        assert _tenant_var() == str(tenant_a.id)
        assert scalar("kernel", "SELECT current_setting('app.actor', true)") == "command:outer"


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_variables_ride_with_the_first_statement(committed: None, tenant_a: Tenant) -> None:
    """One round trip, not two: `SELECT set_config(...); <statement>` as one query, and the
    caller reads its own statement's result — with and without parameters, and with values
    that look like placeholders or quotes."""
    from django.test.utils import CaptureQueriesContext

    odd = "c-%s-%(x)s-'; SELECT 1; --"
    for sql, params in (("SELECT 'a%%b', %s", ["p"]), ("SELECT 'a%b', 'p'", None)):
        with CaptureQueriesContext(connections["finance"]) as queries:
            with tenant_context(
                Actor.for_command(tenant_a.id, "svc"), correlation_id=odd, using=["finance"]
            ):
                with connections["finance"].cursor() as cur:
                    cur.execute(sql, params)
                    assert cur.fetchall() == [("a%b", "p")]
                    cur.execute(
                        "SELECT current_setting('app.tenant_id'), "
                        "current_setting('app.correlation_id'), current_setting('app.actor')"
                    )
                    assert cur.fetchone() == (str(tenant_a.id), odd, "command:svc")
        sent = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
        assert len(sent) == 2 and sent[0].startswith("SELECT set_config("), sent
    # Transaction-local as before: nothing is left on the connection.
    with connections["finance"].cursor() as cur:
        cur.execute("SELECT current_setting('app.tenant_id', true)")
        assert cur.fetchone() in (("",), (None,))


# --- tenant_statement: a unit of work of one statement ----------------------------------------


ROLE_INSERT = (
    "INSERT INTO kernel.roles (id, tenant_id, name, description) "
    "VALUES (gen_random_uuid(), %s, %s, '') RETURNING current_setting('app.actor')"
)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_single_statement_unit_is_one_round_trip_and_leaves_nothing_behind(
    committed: None, tenant_a: Tenant
) -> None:
    """Outside a transaction: the variables and the statement in one query, its own implicit
    transaction (committed, no BEGIN or COMMIT sent), the variables gone after it."""
    from django.test.utils import CaptureQueriesContext

    actor = Actor.for_command(tenant_a.id, "one")
    with CaptureQueriesContext(connections["kernel"]) as queries:
        with tenant_statement(actor, using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(ROLE_INSERT, [tenant_a.id, "single"])
            assert cur.fetchone() == ("command:one",)
    assert len(queries.captured_queries) == 1, queries.captured_queries
    assert queries.captured_queries[0]["sql"].startswith("SELECT set_config('app.tenant_id'")
    assert _tenant_var() in ("", None)  # same connection, after the statement
    with tenant_context(tenant_a.id, using=["kernel"]):
        assert Role.objects.filter(name="single").count() == 1  # committed


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_second_statement_in_a_single_statement_unit_is_refused(
    committed: None, tenant_a: Tenant
) -> None:
    with pytest.raises(RuntimeError, match="exactly one statement"):
        with tenant_statement(tenant_a.id, using="kernel"):
            with connections["kernel"].cursor() as cur:
                cur.execute("SELECT 1")
                cur.execute("SELECT 2")


def test_a_refused_single_statement_rolls_back_to_its_own_savepoint(tenant_a: Tenant) -> None:
    """Inside a request's unit of work: the savepoint travels with the statement, a refusal
    rolls back to it, and the enclosing transaction — its variables set by that very statement,
    its earlier writes — goes on."""
    from django.db import IntegrityError
    from django.test.utils import CaptureQueriesContext

    actor = Actor.for_command(tenant_a.id, "request")
    with tenant_context(actor, using=["kernel"]):
        with CaptureQueriesContext(connections["kernel"]) as queries:
            with pytest.raises(IntegrityError):
                with tenant_statement(actor, using="kernel"), connections["kernel"].cursor() as cur:
                    cur.execute(ROLE_INSERT, [tenant_a.id, None])  # name NOT NULL
        sent = [q["sql"] for q in queries.captured_queries]
        (at,) = [i for i, sql in enumerate(sent) if "INSERT" in sql]
        savepoint = sent[at].split("SAVEPOINT ")[1].split(";")[0]
        assert savepoint.startswith("aibos_")
        assert sent[at].rstrip().endswith(f"RELEASE SAVEPOINT {savepoint}")
        # The enclosing context's variables went first (with the statement or before it), so
        # rolling back to the savepoint kept them.
        first_set = min(i for i, sql in enumerate(sent) if "set_config('app.tenant_id'" in sql)
        assert first_set < at or sent[at].index("set_config") < sent[at].index("SAVEPOINT")
        assert _tenant_var() == str(tenant_a.id)
        Role.objects.create(tenant_id=tenant_a.id, name="after")
        with tenant_statement(actor, using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(ROLE_INSERT, [tenant_a.id, "inside"])
        assert sorted(Role.objects.values_list("name", flat=True)) == ["after", "inside"]
