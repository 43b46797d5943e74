"""The status graphs are declared once, as ``Model.transitions`` next to each ``Status`` enum
(finance/models/payments.py): the deployed guard triggers accept exactly the graph's moves, and
the services allow an action exactly from the graph's sources of the status it moves to.

The database side runs raw SQL as aibos_finance_role in the tenant's context, on real rows in
every status (reached through the services), for every ordered pair of distinct statuses. A
move the graph allows is attempted with its preconditions met (policy snapshot, quorum, a
recorded rejection, a posted entry) and must be accepted, deferred checks included; any other
move must be refused by the transition rule itself. Every attempt is rolled back, so each row
stays in its status. This fails when a graph changes without a migration, or when the deployed
function is edited by hand (which the hash check of ``pgtrigger ls`` cannot see: the hash lives
in the trigger's comment, not in the function).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from aibos.actors import Actor
from aibos.db.states import StateMachine
from aibos.errors import DatabaseRefusal
from aibos.tenancy import tenant_context
from finance import demo, errors, services
from finance.models import ApprovalMatrix, IntercompanySettlement, Payment
from kernel import services as kernel_services
from tests.factories import system
from tests.finance.books import DAY, actor, cell_actor, make_payment, post_simple
from tests.finance.helpers import run
from tests.security.helpers import fetchall

pytestmark = pytest.mark.django_db(databases="__all__")

Statement = tuple[str, list[Any]]
PaymentStatus = Payment.Status
MatrixStatus = ApprovalMatrix.Status
SettlementStatus = IntercompanySettlement.Status


class _Undo(Exception):
    """Raised to roll an attempt back once it has gone through."""


def attempt(tenant_id: Any, *statements: Statement) -> str | None:
    """Run the statements as the finance role, fire the deferred checks, and roll back: None
    when the database accepted all of it, else the rule (or SQLSTATE) that refused."""
    try:
        with tenant_context(Actor.for_command(tenant_id, "sql-test"), using=["finance"]):
            with connections["finance"].cursor() as cur:
                for sql, params in statements:
                    cur.execute(sql, params)
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            raise _Undo
    except _Undo:
        return None
    except DatabaseError as exc:
        refusal = DatabaseRefusal.of(exc)
        return refusal.rule or refusal.sqlstate


def pairs(states: type[Any]) -> Iterator[tuple[Any, Any]]:
    """Every ordered pair of distinct statuses (staying in a status is no transition)."""
    return itertools.permutations(list(states), 2)


def disagreements(
    graph: StateMachine[Any],
    try_move: Callable[[Any, Any], str | None],
    refused_by: Callable[[Any], str],
) -> list[str]:
    """Each pair of statuses where the database's answer is not the graph's."""
    found, outcomes = [], set()
    for source, target in pairs(type(graph.initial)):
        outcomes.add(graph.allows(source, target))
        expected = None if graph.allows(source, target) else refused_by(source)
        got = try_move(source, target)
        if got != expected:
            found.append(
                f"{source} -> {target}: expected {expected or 'accepted'}, got {got or 'accepted'}"
            )
    assert outcomes == {True, False}, "the walk must try allowed and refused moves"
    return found


def without_moves_into(graph: StateMachine[Any], target: Any) -> StateMachine[Any]:
    """The same graph with every move into ``target`` removed."""
    return StateMachine(
        type(graph.initial),
        initial=graph.initial,
        edges={s: [t for t in graph.targets(s) if t != target] for s in graph.states},
    )


# --- payments ------------------------------------------------------------------------------


@pytest.fixture
def payment_in(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> dict[Any, Any]:
    """One payment of 100.00 (one approval) in every status, each reached through the services
    (committed: the approval guard reads the approvers through the finance connection)."""
    tenant, approver = books.tenant.id, actor(approvers.l1)

    def submitted() -> Any:
        return make_payment(books, "100.00")

    def approved() -> Any:
        return services.payment_approve(actor=approver, payment_id=submitted().pk)

    rows = {
        PaymentStatus.DRAFT: make_payment(books, "100.00", submit=False),
        PaymentStatus.SUBMITTED: submitted(),
        PaymentStatus.APPROVED: approved(),
        PaymentStatus.REJECTED: services.payment_reject(
            actor=approver, payment_id=submitted().pk, reason="duplicate"
        ),
        PaymentStatus.CANCELLED: services.payment_cancel(
            actor=cell_actor(tenant), payment_id=submitted().pk
        ),
        PaymentStatus.PAID: services.payment_mark_paid(
            actor=cell_actor(tenant), payment_id=approved().pk, paid_on=DAY
        ),
    }
    assert set(rows) == set(PaymentStatus)
    assert all(payment.status == status for status, payment in rows.items())
    return rows


INSERT_DECISION = (
    "INSERT INTO finance.payment_approvals (tenant_id, payment_id, requester, approver, decision, "
    "reason, level, approver_role, approval_grant) VALUES (%s, %s, %s, %s, %s, 'r', 0, %s, %s)"
)
SUBMIT_WITH_SNAPSHOT = (
    # The policy snapshot of a twin submitted through the service (same company and amount).
    "UPDATE finance.payments p SET status = %s, policy_matrix_id = t.policy_matrix_id, "
    "policy_band_id = t.policy_band_id, policy_currency = t.policy_currency, "
    "policy_amount = t.policy_amount, policy_fx_rate_id = t.policy_fx_rate_id, "
    "policy_fx_rate = t.policy_fx_rate, required_approvals = t.required_approvals, "
    "approver_roles = t.approver_roles, required_roles = t.required_roles "
    "FROM finance.payments t WHERE t.id = %s AND p.id = %s"
)
SET_STATUS = "UPDATE finance.payments SET status = %s WHERE id = %s"


def payment_move(
    books: SimpleNamespace, approvers: SimpleNamespace, rows: dict[Any, Any], entry: Any
) -> Callable[[Any, Any], list[Statement]]:
    """The statements that move a payment to ``target`` with the target's precondition met."""

    def statements(source: Any, target: Any) -> list[Statement]:
        payment = rows[source]
        if target == PaymentStatus.SUBMITTED:
            return [(SUBMIT_WITH_SNAPSHOT, [target, rows[PaymentStatus.SUBMITTED].pk, payment.pk])]
        if target == PaymentStatus.PAID:
            return [
                (
                    "UPDATE finance.payments SET status = %s, journal_entry_id = %s WHERE id = %s",
                    [target, entry.pk, payment.pk],
                )
            ]
        if target in (PaymentStatus.APPROVED, PaymentStatus.REJECTED):
            decision = "APPROVE" if target == PaymentStatus.APPROVED else "REJECT"
            grant = kernel_services.approval_grant_issue(
                actor=actor(approvers.l2),
                payment_id=payment.pk,
                role=demo.L2,
                decision=decision,
            )
            approval = [
                books.tenant.id,
                payment.pk,
                payment.requested_by,
                actor(approvers.l2).label,
                decision,
                demo.L2,
                json.dumps(grant),
            ]
            return [(INSERT_DECISION, approval), (SET_STATUS, [target, payment.pk])]
        return [(SET_STATUS, [target, payment.pk])]

    return statements


def test_the_payment_guard_accepts_exactly_the_declared_graph(
    payment_in: dict[Any, Any], books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    graph, tenant = Payment.transitions, books.tenant.id
    with_precondition = payment_move(books, approvers, payment_in, post_simple(books.us))

    def try_move(source: Any, target: Any) -> str | None:
        if graph.allows(source, target):
            return attempt(tenant, *with_precondition(source, target))
        return attempt(tenant, (SET_STATUS, [target, payment_in[source].pk]))

    assert disagreements(graph, try_move, lambda _: "finance_payment_transition") == []
    # Every attempt was rolled back.
    statuses = dict(run(tenant, "SELECT id, status FROM finance.payments"))
    assert {statuses[p.pk] for p in payment_in.values()} == set(PaymentStatus)


# The payment services, the status each moves a payment to, and how its refusal names it.
PAYMENT_ACTIONS = {
    "payment_submit": (PaymentStatus.SUBMITTED, "submitted"),
    "payment_approve": (PaymentStatus.APPROVED, "approved"),
    "payment_reject": (PaymentStatus.REJECTED, "rejected"),
    "payment_cancel": (PaymentStatus.CANCELLED, "cancelled"),
    "payment_mark_paid": (PaymentStatus.PAID, "marked paid"),
}


def service_refusal(
    books: SimpleNamespace, approvers: SimpleNamespace, action: str, payment: Any
) -> str | None:
    """Call the service on the payment and roll back whatever it wrote: None when it went
    through, else its error message."""
    kwargs: dict[str, Any] = {"payment_id": payment.pk}
    if action in ("payment_approve", "payment_reject"):
        kwargs["actor"] = actor(approvers.l1)
    else:
        kwargs["actor"] = cell_actor(books.tenant.id)
    if action == "payment_reject":
        kwargs["reason"] = "duplicate"
    if action == "payment_mark_paid":
        kwargs["paid_on"] = DAY
    try:
        with transaction.atomic(using="finance"):
            getattr(services, action)(**kwargs)
            raise _Undo
    except _Undo:
        return None
    except services.ApplicationError as exc:
        return exc.message


def test_each_payment_service_allows_exactly_the_graphs_sources(
    payment_in: dict[Any, Any], books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    graph = Payment.transitions
    found = []
    for action, (target, verb) in PAYMENT_ACTIONS.items():
        allowed = set(graph.sources(target))
        if action == "payment_mark_paid":
            allowed.add(PaymentStatus.PAID)  # idempotent: a PAID payment is returned as it is
        for source, payment in payment_in.items():
            got = service_refusal(books, approvers, action, payment)
            refusal = errors.BAD_TRANSITION.format(id=payment.pk, status=source, action=verb)
            expected = None if source in allowed else refusal
            if got != expected:
                found.append(f"{action} on {source}: expected {expected}, got {got}")
    assert found == []


@pytest.mark.parametrize("action", list(PAYMENT_ACTIONS))
def test_the_payment_services_read_the_declared_graph(
    payment_in: dict[Any, Any],
    books: SimpleNamespace,
    approvers: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
) -> None:
    """Take the action's moves out of ``Payment.transitions``: the service now refuses from a
    status the real graph allows, with its own 409, before the database is asked."""
    target, verb = PAYMENT_ACTIONS[action]
    source = Payment.transitions.sources(target)[0]
    monkeypatch.setattr(Payment, "transitions", without_moves_into(Payment.transitions, target))
    payment = payment_in[source]
    assert service_refusal(books, approvers, action, payment) == errors.BAD_TRANSITION.format(
        id=payment.pk, status=source, action=verb
    )


# --- approval matrices ---------------------------------------------------------------------


@pytest.fixture
def matrix_in(books: SimpleNamespace) -> dict[Any, Any]:
    """Treasury matrices of the US company in every status: v1 retired by v2 (active), and a
    draft for intercompany payments (no active matrix there), all with bands covering [0, inf)."""
    tenant = books.tenant.id

    def draft(payment_type: str) -> Any:
        return services.approval_matrix_create(
            actor=system(tenant),
            company_id=books.us.company.pk,
            payment_type=payment_type,
            currency="USD",
            bands=[services.BandInput(Decimal(0), None, 1, [demo.L1])],
        )

    def activate(matrix: Any) -> Any:
        return services.approval_matrix_activate(actor=system(tenant), matrix_id=matrix.pk)

    retired = activate(draft("treasury"))
    rows = {
        MatrixStatus.ACTIVE: activate(draft("treasury")),
        MatrixStatus.RETIRED: retired,
        MatrixStatus.DRAFT: draft("intercompany"),
    }
    statuses = dict(run(tenant, "SELECT id, status FROM finance.approval_matrices"))
    assert {status: statuses[m.pk] for status, m in rows.items()} == {s: s for s in MatrixStatus}
    return rows


def test_the_matrix_guard_accepts_exactly_the_declared_graph(
    matrix_in: dict[Any, Any], books: SimpleNamespace
) -> None:
    graph = ApprovalMatrix.transitions

    def try_move(source: Any, target: Any) -> str | None:
        # The precondition of ACTIVE (bands covering [0, inf), no other active version) holds
        # for the draft; no other target has one.
        return attempt(
            books.tenant.id,
            (
                "UPDATE finance.approval_matrices SET status = %s WHERE id = %s",
                [target, matrix_in[source].pk],
            ),
        )

    refused = disagreements(graph, try_move, lambda _: "finance_approvalmatrix_transition")
    assert refused == []


def test_matrix_activation_allows_exactly_the_graphs_sources(
    matrix_in: dict[Any, Any], books: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refusal(matrix: Any) -> str | None:
        try:
            with transaction.atomic(using="finance"):
                services.approval_matrix_activate(
                    actor=system(books.tenant.id), matrix_id=matrix.pk
                )
                raise _Undo
        except _Undo:
            return None
        except services.ApplicationError as exc:
            return exc.message

    def not_draft(status: Any) -> str:
        return errors.MATRIX_NOT_DRAFT.format(id=matrix_in[status].pk, status=status)

    allowed = ApprovalMatrix.transitions.sources(MatrixStatus.ACTIVE)
    assert {s: refusal(m) for s, m in matrix_in.items()} == {
        s: None if s in allowed else not_draft(s) for s in MatrixStatus
    }
    # The service reads the declared graph: without the move into ACTIVE, a draft is refused.
    monkeypatch.setattr(
        ApprovalMatrix,
        "transitions",
        without_moves_into(ApprovalMatrix.transitions, MatrixStatus.ACTIVE),
    )
    assert refusal(matrix_in[MatrixStatus.DRAFT]) == not_draft(MatrixStatus.DRAFT)


# --- intercompany settlements --------------------------------------------------------------

INSERT_PENDING = (
    "INSERT INTO finance.intercompany_settlements (tenant_id, from_company_id, to_company_id, "
    "amount, currency, status, from_bank_account_id, to_bank_account_id, from_account_id, "
    "to_account_id, reference, requested_by) VALUES (%s, %s, %s, 10, 'EUR', 'PENDING', %s, %s, "
    "%s, %s, '', '') RETURNING id"
)


def test_the_settlement_guard_accepts_exactly_the_declared_graph(books: SimpleNamespace) -> None:
    graph, tenant, us, eu = IntercompanySettlement.transitions, books.tenant.id, books.us, books.eu
    settled = services.intercompany_settle(
        actor=system(tenant),
        from_bank_account_id=us.foreign_bank.pk,
        to_bank_account_id=eu.bank.pk,
        from_account_id=us.accounts["1510"].pk,
        to_account_id=eu.accounts["2500"].pk,
        amount=Decimal("10.00"),
        entry_date=DAY,
    )
    sides = [us.foreign_bank.pk, eu.bank.pk, us.accounts["1510"].pk, eu.accounts["2500"].pk]
    insert = (INSERT_PENDING, [tenant, us.company.pk, eu.company.pk, *sides])
    pending, cancelled = (run(tenant, insert)[0][0] for _ in range(2))
    run(
        tenant,
        (
            "UPDATE finance.intercompany_settlements SET status = 'CANCELLED' WHERE id = %s",
            [cancelled],
        ),
    )
    rows = {
        SettlementStatus.PENDING: pending,
        SettlementStatus.SETTLED: settled.pk,
        SettlementStatus.CANCELLED: cancelled,
    }

    def try_move(source: Any, target: Any) -> str | None:
        sql = "UPDATE finance.intercompany_settlements SET status = %s WHERE id = %s"
        params: list[Any] = [target, rows[source]]
        if graph.allows(source, target) and target == SettlementStatus.SETTLED:
            # Its precondition (checked at COMMIT): a POSTED entry in each company.
            sql = (
                "UPDATE finance.intercompany_settlements SET status = %s, "
                "from_entry_id = %s, to_entry_id = %s WHERE id = %s"
            )
            params = [target, settled.from_entry_id, settled.to_entry_id, rows[source]]
        return attempt(tenant, (sql, params))

    def refused_by(source: Any) -> str:
        # A settlement in a terminal status does not change at all.
        if source in graph.terminal:
            return "finance_settlement_final"
        return "finance_settlement_transition"

    assert disagreements(graph, try_move, refused_by) == []


# --- status CHECKs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "constraint"),
    [
        (Payment, "finance_payment_status_valid"),
        (ApprovalMatrix, "finance_approvalmatrix_status_valid"),
        (IntercompanySettlement, "finance_settlement_status_valid"),
    ],
)
def test_the_deployed_status_checks_allow_exactly_the_enum(model: Any, constraint: str) -> None:
    (definition,) = fetchall(
        "default",
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'finance' AND c.conname = %s",
        [constraint],
    )[0]
    assert sorted(re.findall(r"'([^']*)'::", definition)) == sorted(model.Status.values)
