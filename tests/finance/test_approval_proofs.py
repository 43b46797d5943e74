"""Approvals the database can verify: a decision counts only with the identity plane's signed
grant for this tenant, payment, approver, role and decision, unexpired, from an active user who
holds the role. Proven with raw SQL as aibos_finance_role (the finance service compromised).

Committed transactions: the approval guard reads the kernel's users and roles, which the test's
kernel connection must have committed for the finance connection to see them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections

from aibos.actors import Actor
from aibos.db.roles import PLATFORM_ROLES, RUNTIME_ALIASES
from aibos.errors import ApplicationError
from aibos.tenancy import tenant_context
from finance import demo, services
from kernel import services as kernel_services
from kernel.models import User
from tests.finance.books import CELL, actor, approver_create, make_payment
from tests.finance.helpers import message, refused, run
from tests.security.helpers import fetchall

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

INSERT_APPROVAL = (
    "INSERT INTO finance.payment_approvals (tenant_id, payment_id, requester, approver, decision, "
    "reason, level, approver_role, approval_grant) VALUES (%s, %s, %s, %s, %s, 'r', 0, %s, %s)"
)


def grant_for(
    books: SimpleNamespace, payment: Any, user: Any, role: str, decision: str = "APPROVE"
) -> dict[str, Any]:
    """What the identity plane signs for ``user`` (as the kernel role, in the user's context)."""
    return kernel_services.approval_grant_issue(
        actor=actor(user), payment_id=payment.pk, role=role, decision=decision
    )


def insert(
    books: SimpleNamespace,
    payment: Any,
    approver: Actor | str,
    role: str,
    grant: dict[str, Any] | None,
    decision: str = "APPROVE",
) -> None:
    """A raw approval row, as the finance runtime role."""
    run(
        books.tenant.id,
        (
            INSERT_APPROVAL,
            [
                books.tenant.id,
                payment.pk,
                CELL,
                str(approver),  # the label, as the database stores it
                decision,
                role,
                None if grant is None else json.dumps(grant),
            ],
        ),
    )


def refusal_of(call: Any) -> tuple[str, str]:
    with pytest.raises(DatabaseError) as exc:
        call()
    assert refused(exc)[0] == "23514", message(exc)
    return refused(exc)[1], message(exc)


def set_status(books: SimpleNamespace, payment: Any, status: str) -> None:
    run(
        books.tenant.id,
        ("UPDATE finance.payments SET status = %s WHERE id = %s", [status, payment.pk]),
    )


@pytest.fixture
def proof(committed: None, books: SimpleNamespace, approvers: SimpleNamespace) -> SimpleNamespace:
    """Tenant A's books and approvers, committed, and a submitted quorum-of-2 payment."""
    return SimpleNamespace(
        books=books, approvers=approvers, payment=make_payment(books, "20000.00")
    )


# --- each forgery, refused with its own rule -----------------------------------------------


def test_an_invented_approver_is_refused(proof: SimpleNamespace) -> None:
    # Even carrying a genuine CFO grant for this very payment.
    stolen = grant_for(proof.books, proof.payment, proof.approvers.cfo, demo.CFO)
    invented = f"user:{uuid.uuid4()}"
    rule, text = refusal_of(lambda: insert(proof.books, proof.payment, invented, demo.CFO, stolen))
    assert rule == "finance_paymentapproval_approver_unknown"
    assert "not an active user" in text


def test_a_real_user_without_the_role_is_refused(proof: SimpleNamespace, bob: User) -> None:
    # The identity plane will not sign for bob as CFO...
    with pytest.raises(ApplicationError) as exc:
        grant_for(proof.books, proof.payment, bob, demo.CFO)
    assert exc.value.status == 403
    assert exc.value.extra["code"] == "kernel_approvalgrant_role"
    # ...and a CFO grant lifted from the real CFO does not make bob one.
    stolen = grant_for(proof.books, proof.payment, proof.approvers.cfo, demo.CFO)
    rule, text = refusal_of(
        lambda: insert(proof.books, proof.payment, actor(bob), demo.CFO, stolen)
    )
    assert rule == "finance_paymentapproval_role_not_held"
    assert "does not hold role" in text


def test_a_real_approver_without_a_grant_is_refused(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    rule, text = refusal_of(lambda: insert(proof.books, proof.payment, actor(cfo), demo.CFO, None))
    assert rule == "finance_paymentapproval_grant_missing"
    assert "no approval grant" in text


def test_a_grant_replayed_on_another_payment_is_refused(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    other = make_payment(proof.books, "30000.00")
    grant = grant_for(proof.books, other, cfo, demo.CFO)
    rule, text = refusal_of(lambda: insert(proof.books, proof.payment, actor(cfo), demo.CFO, grant))
    assert rule == "finance_paymentapproval_grant_other_payment"
    assert str(other.pk) in text


def test_a_grant_for_another_role_approver_or_decision_is_refused(proof: SimpleNamespace) -> None:
    l1, l2 = proof.approvers.l1, proof.approvers.l2
    rejection = grant_for(proof.books, proof.payment, l1, demo.L1, decision="REJECT")
    rule, _ = refusal_of(lambda: insert(proof.books, proof.payment, actor(l1), demo.L1, rejection))
    assert rule == "finance_paymentapproval_grant_mismatch"
    someone_elses = grant_for(proof.books, proof.payment, l2, demo.L2)
    rule, _ = refusal_of(
        lambda: insert(proof.books, proof.payment, actor(l1), demo.L1, someone_elses)
    )
    assert rule == "finance_paymentapproval_grant_mismatch"


def test_a_tampered_grant_is_refused(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    grant = grant_for(proof.books, proof.payment, cfo, demo.CFO)
    flipped = grant["signature"][:-1] + ("0" if grant["signature"][-1] != "0" else "1")
    for forged in (
        {**grant, "signature": flipped},
        {**grant, "expires": grant["expires"] + 86400},  # a longer life than was signed
        {**grant, "signature": "00" * 32},
        {**grant, "expires": "soon"},
    ):
        rule, text = refusal_of(
            lambda f=forged: insert(proof.books, proof.payment, actor(cfo), demo.CFO, f)
        )
        assert rule == "finance_paymentapproval_grant_signature"
        assert "no valid signature" in text


def test_an_expired_grant_is_refused(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    grant = grant_for(proof.books, proof.payment, cfo, demo.CFO)
    # A grant genuinely signed (by the owner: no runtime role can) that expired a minute ago.
    expired = int(time.time()) - 60
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT kernel.approval_grant_signature(%s, %s, %s, %s, 'APPROVE', %s)",
            [proof.books.tenant.id, proof.payment.pk, actor(cfo).label, demo.CFO, expired],
        )
        (signature,) = cur.fetchone()
    stale = {**grant, "expires": expired, "signature": signature}
    rule, text = refusal_of(lambda: insert(proof.books, proof.payment, actor(cfo), demo.CFO, stale))
    assert rule == "finance_paymentapproval_grant_expired"
    assert "expired" in text


def test_a_deactivated_approver_cannot_use_a_grant_issued_before(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    grant = grant_for(proof.books, proof.payment, cfo, demo.CFO)
    with tenant_context(proof.books.tenant.id, using=["kernel"]):
        User.objects.filter(pk=cfo.pk).update(is_active=False)
    rule, _ = refusal_of(lambda: insert(proof.books, proof.payment, actor(cfo), demo.CFO, grant))
    assert rule == "finance_paymentapproval_approver_unknown"


# --- the issue's attack, and the seeds' rules with valid grants ----------------------------


@pytest.mark.parametrize("amount", ["20000.00", "150000.00"])
def test_forged_approvals_never_make_a_payment_approved(
    proof: SimpleNamespace, amount: str
) -> None:
    """The reported attack: invented CFOs (with and without a made-up grant), then APPROVED."""
    payment = make_payment(proof.books, amount)
    for _ in range(3):
        invented = f"user:{uuid.uuid4()}"
        forged = {"payment": str(payment.pk), "approver": invented, "role": demo.CFO}
        for grant in (None, forged):
            with pytest.raises(DatabaseError):
                insert(proof.books, payment, invented, demo.CFO, grant)
    with pytest.raises(DatabaseError) as exc:
        set_status(proof.books, payment, "APPROVED")
    assert refused(exc) == ("23514", "finance_payment_quorum")


def test_the_quorum_holds_with_valid_grants(proof: SimpleNamespace) -> None:
    books, payment, l1, l2 = proof.books, proof.payment, proof.approvers.l1, proof.approvers.l2
    insert(books, payment, actor(l1), demo.L1, grant_for(books, payment, l1, demo.L1))
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, "APPROVED")
    assert refused(exc) == ("23514", "finance_payment_quorum")
    insert(books, payment, actor(l2), demo.L2, grant_for(books, payment, l2, demo.L2))
    set_status(books, payment, "APPROVED")


def test_the_cfo_rule_holds_with_valid_grants(proof: SimpleNamespace) -> None:
    books, approvers = proof.books, proof.approvers
    payment = make_payment(books, "150000.00")  # three approvers, CFO required
    for user, role in ((approvers.l1, demo.L1), (approvers.l2, demo.L2)):
        insert(books, payment, actor(user), role, grant_for(books, payment, user, role))
    another_l2 = approver_create(books.tenant, "l2b@a.test", demo.L2)
    grant = grant_for(books, payment, another_l2, demo.L2)
    rule, _ = refusal_of(lambda: insert(books, payment, actor(another_l2), demo.L2, grant))
    assert rule == "finance_paymentapproval_required_role"
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, "APPROVED")
    assert refused(exc) == ("23514", "finance_payment_quorum")
    cfo = approvers.cfo
    insert(books, payment, actor(cfo), demo.CFO, grant_for(books, payment, cfo, demo.CFO))
    set_status(books, payment, "APPROVED")


def test_the_service_path_records_the_grant(proof: SimpleNamespace) -> None:
    books, payment = proof.books, proof.payment
    for user in (proof.approvers.l1, proof.approvers.cfo):
        payment = services.payment_approve(actor=actor(user), payment_id=payment.pk)
    assert payment.status == "APPROVED"
    rows = run(
        books.tenant.id,
        (
            "SELECT approver, approval_grant FROM finance.payment_approvals "
            "WHERE payment_id = %s ORDER BY level",
            [payment.pk],
        ),
    )
    for approver, grant in rows:
        grant = json.loads(grant) if isinstance(grant, str) else grant
        assert (grant["approver"], grant["payment"]) == (approver, str(payment.pk))
        assert len(grant["signature"]) == 64


# --- the identity plane signs only for its signed-in user ----------------------------------


def test_the_kernel_signs_only_for_the_user_of_its_context(proof: SimpleNamespace) -> None:
    tenant = proof.books.tenant.id
    call = "SELECT kernel.approval_grant_issue(%s, %s, 'APPROVE')"
    with pytest.raises(DatabaseError) as exc:  # no signed-in user in the context
        with tenant_context(tenant, using=["kernel"]):
            with connections["kernel"].cursor() as cur:
                cur.execute(call, [proof.payment.pk, demo.CFO])
    assert refused(exc) == ("23514", "kernel_approvalgrant_user")
    with pytest.raises(DatabaseError) as exc:  # a user id that is nobody
        with tenant_context(Actor.for_user(tenant, uuid.uuid4()), using=["kernel"]):
            with connections["kernel"].cursor() as cur:
                cur.execute(call, [proof.payment.pk, demo.CFO])
    assert refused(exc) == ("23514", "kernel_approvalgrant_user")


def test_the_signature_is_hmac_sha256_over_the_grant(proof: SimpleNamespace) -> None:
    cfo = proof.approvers.cfo
    grant = grant_for(proof.books, proof.payment, cfo, demo.CFO)
    with connections["default"].cursor() as cur:  # the owner, for this check only
        cur.execute("SELECT key FROM kernel.approval_grant_keys")
        (key,) = cur.fetchone()
    fields = [
        "aibos.approval-grant.v1",
        grant["tenant"],
        grant["payment"],
        grant["approver"],
        grant["role"],
        grant["decision"],
        grant["expires"],
    ]
    body = json.dumps(fields, separators=(", ", ": "))  # jsonb's text form
    expected = hmac.new(bytes(key), body.encode(), hashlib.sha256).hexdigest()
    assert grant["signature"] == expected
    assert 295 <= grant["expires"] - time.time() <= 300


def test_no_runtime_role_can_read_the_key_or_sign() -> None:
    for alias in RUNTIME_ALIASES:
        for sql in (
            "SELECT key FROM kernel.approval_grant_keys",
            "SELECT kernel.approval_grant_signature(gen_random_uuid(), gen_random_uuid(), "
            "'user:x', 'r', 'APPROVE', 1)",
        ):
            with pytest.raises(DatabaseError) as exc:
                with connections[alias].cursor() as cur:
                    cur.execute(sql)
            assert refused(exc)[0] == "42501", (alias, sql)
    rows = fetchall(
        "default",
        "SELECT r, has_table_privilege(r, 'kernel.approval_grant_keys', 'SELECT,INSERT,UPDATE,DELETE'), "
        "has_function_privilege(r, 'kernel.approval_grant_signature(uuid,uuid,text,text,text,bigint)', 'EXECUTE'), "
        "has_function_privilege(r, 'kernel.approval_grant_issue(uuid,text,text)', 'EXECUTE') "
        "FROM unnest(%s::text[]) r ORDER BY r",
        [list(PLATFORM_ROLES)],
    )
    issuers = {r for r, _, _, may_issue in rows if may_issue}
    assert issuers == {"aibos_kernel_role"}
    assert all(not read and not sign for _, read, sign, _ in rows)
