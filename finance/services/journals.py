"""Journals: draft entries, their lines, posting and reversal.

The posting path (``_posting_context`` .. ``_refused_unsaved``) sends as few statements as it
can: the company and accounts in one function call, then entry, lines and the posting in one
(``finance.journal_entry_create``, finance migration 0007). The guarantees are the database's
(``finance/triggers.py``): the checks here only make the errors precise.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, InternalError, connections
from django.utils import timezone

from aibos import idempotency
from aibos.actors import Actor
from aibos.db.fetch import scoped_get
from aibos.db.returning import attach_prefetched
from aibos.errors import ApplicationError, Conflict
from finance import currencies, errors, limits
from finance.models import Company, FxRate, JournalEntry, JournalLine
from finance.selectors import fx_rate_valid_on
from finance.services._plumbing import ALIAS, CREDIT, DEBIT, unit, validate_amount


@dataclass(frozen=True)
class LineInput:
    account_id: uuid.UUID
    side: str  # "debit" | "credit"
    amount: Decimal  # in the account's currency
    memo: str = ""


def _posting_context(
    tenant_id: uuid.UUID, company_id: Any, account_ids: set[Any]
) -> tuple[str, dict[Any, tuple[Any, str]]]:
    """The company's base currency and (company, currency) of each account, in one query."""
    with connections[ALIAS].cursor() as cur:
        # A function (migration 0006): its plan is cached per connection.
        cur.execute(
            'SELECT * FROM "finance".posting_context(%s, %s, %s::uuid[])',
            [tenant_id, company_id, list(account_ids)],
        )
        rows = cur.fetchall()
    if not rows:
        raise errors.NotFound(errors.NOT_FOUND.format(what="Company", id=company_id))
    accounts = {row[1]: (row[2], row[3]) for row in rows if row[1] is not None}
    missing = account_ids - set(accounts)
    if missing:
        raise errors.NotFound(
            errors.NOT_FOUND.format(what="Account", id=sorted(map(str, missing))[0])
        )
    return rows[0][0], accounts


def _line_rows(
    tenant_id: uuid.UUID,
    entry_id: Any,
    entry_date: dt.date,
    company_id: Any,
    lines: Sequence[LineInput],
    first_line_no: int = 1,
    context: tuple[str, dict[Any, tuple[Any, str]]] | None = None,
    field: str = "lines[{i}].amount",
) -> list[JournalLine]:
    """Convert each line into the company currency at the rate valid on the entry date (not yet
    written). ``field`` names a line's amount in errors."""
    base, accounts = context or _posting_context(
        tenant_id, company_id, {x.account_id for x in lines}
    )
    rows: list[JournalLine] = []
    for i, line in enumerate(lines):
        account_company, currency = accounts[line.account_id]
        if account_company != company_id:
            raise errors.Unprocessable(
                errors.WRONG_COMPANY.format(what="Account", id=line.account_id)
            )
        amount = validate_amount(line.amount, currency)
        fx: FxRate | None = None
        rate, converted = Decimal(1), amount
        if currency != base:
            fx = fx_rate_valid_on(tenant_id=tenant_id, base=currency, quote=base, on=entry_date)
            if fx is None:
                raise errors.Unprocessable(
                    errors.NO_FX_RATE.format(base=currency, quote=base, date=entry_date)
                )
            rate, converted = fx.rate, currencies.round_to_currency(amount * fx.rate, base)
        limits.check_amount(amount, currency, field=field.format(i=i), what="per line")
        limits.check_amount(
            converted,
            base,
            field=field.format(i=i),
            what=f"per line once converted from {amount} {currency}",
        )
        rows.append(
            JournalLine(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                entry_id=entry_id,
                line_no=first_line_no + i,
                account_id=line.account_id,
                debit=converted if line.side == DEBIT else Decimal(0),
                credit=converted if line.side == CREDIT else Decimal(0),
                currency=currency,
                txn_amount=amount,
                fx_rate=fx,
                fx_rate_value=rate,
                memo=line.memo,
            )
        )
    return rows


def _insert_lines(
    tenant_id: uuid.UUID,
    entry_id: Any,
    entry_date: dt.date,
    company_id: Any,
    lines: Sequence[LineInput],
    first_line_no: int = 1,
    field: str = "lines[{i}].amount",
) -> list[JournalLine]:
    """The lines of :func:`_line_rows`, inserted in one statement."""
    rows = _line_rows(
        tenant_id, entry_id, entry_date, company_id, lines, first_line_no, field=field
    )
    if rows:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        params: list[Any] = []
        for r in rows:
            params += [
                r.id,
                tenant_id,
                entry_id,
                r.line_no,
                r.account_id,
                r.debit,
                r.credit,
                r.currency,
                r.txn_amount,
                r.fx_rate_id,
                r.fx_rate_value,
                r.memo,
            ]
        with connections[ALIAS].cursor() as cur:
            cur.execute(
                'INSERT INTO "finance"."journal_lines" (id, tenant_id, entry_id, line_no, '
                "account_id, debit, credit, currency, txn_amount, fx_rate_id, fx_rate, memo) "
                f"VALUES {values}",
                params,
            )
    return rows


def _post(entry: JournalEntry) -> JournalEntry:
    """DRAFT -> POSTED. The database checks and numbers the entry; read back what it set."""
    with connections[ALIAS].cursor() as cur:
        cur.execute(
            'UPDATE "finance"."journal_entries" SET status = %s '
            "WHERE tenant_id = %s AND id = %s AND status = %s "
            "RETURNING posting_seq, posted_at, posted_by",
            [JournalEntry.Status.POSTED, entry.tenant_id, entry.pk, JournalEntry.Status.DRAFT],
        )
        row = cur.fetchone()
    if row is not None:
        entry.status = JournalEntry.Status.POSTED
        entry.posting_seq, entry.posted_at, entry.posted_by = row
    return entry


def journal_create_draft(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    entry_date: dt.date,
    reference: str = "",
    memo: str = "",
    lines: Sequence[LineInput] = (),
    idempotency_key: str | None = None,
    post: bool = False,
) -> tuple[JournalEntry, bool]:
    """A draft entry with optional lines, optionally posted at once. Returns (entry, created);
    with an idempotency key, a replay returns the original entry and ``created=False``. The
    entry comes with its lines (``entry.lines.all()`` runs no query)."""
    limits.check_accounting_date(entry_date, field="entry_date")
    tenant_id = actor.tenant_id
    digest: str = ""
    payload: dict[str, Any] = {}
    if idempotency_key is not None:
        digest, payload = idempotency.fingerprint(
            {
                "company_id": company_id,
                "entry_date": entry_date,
                "reference": reference,
                "memo": memo,
                "post": post,
                "lines": [[str(x.account_id), x.side, str(x.amount), x.memo] for x in lines],
            }
        )

    def build() -> JournalEntry:
        entry = JournalEntry(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            company_id=company_id,
            entry_date=entry_date,
            reference=reference,
            memo=memo,
            created_by=actor.label,
            idempotency_key=idempotency_key,
            request_hash=digest,
            request_payload=payload if idempotency_key else None,
        )
        lines_ = list(lines)
        # First, so a missing company or account is a 404 rather than a key violation. As the
        # unit's first statement it also carries the tenant variables (one round trip).
        context = _posting_context(tenant_id, company_id, {x.account_id for x in lines_})
        rows = _line_rows(tenant_id, entry.id, entry_date, company_id, lines_, context=context)
        if rows:
            _check_entry_total(rows, context[0])
        try:
            _create_entry(entry, rows, post=post)
        except (IntegrityError, InternalError, DataError) as exc:
            if idempotency.is_race(exc):
                raise  # a concurrent twin won: create_once returns its entry
            raise _refused_unsaved(exc, entry.id) from exc
        _created_as_written(entry, rows)
        return entry

    with unit(actor):
        if idempotency_key is None:
            return build(), True
        entry, created = idempotency.create_once(
            JournalEntry.objects.prefetch_related("lines"),
            tenant_id=tenant_id,
            key=idempotency_key,
            build=build,
            using=ALIAS,
        )
        if not created:
            entry = idempotency.replay(entry, key=idempotency_key, digest=digest, payload=payload)
    return entry, created


def _created_as_written(entry: JournalEntry, rows: Sequence[JournalLine]) -> None:
    """Complete a new entry with what the database set, and attach its lines."""
    if entry.status == JournalEntry.Status.POSTED:
        # Posted in the unit of work that inserted it: created_at, updated_at and posted_at are
        # all that transaction's clock (now()), and posted_at came back from the call.
        posted_at = entry.posted_at
        assert posted_at is not None
        entry.created_at = entry.updated_at = posted_at
    else:
        # A draft: one read of the two columns the database set (the call returns neither).
        entry.created_at, entry.updated_at = (
            JournalEntry.objects.filter(tenant_id=entry.tenant_id, pk=entry.pk)
            .values_list("created_at", "updated_at")
            .get()
        )
    attach_prefetched(entry, "lines", rows)


def _create_entry(entry: JournalEntry, rows: Sequence[JournalLine], *, post: bool) -> None:
    """Entry, lines and (with ``post``) the posting in one round trip:
    ``finance.journal_entry_create`` runs the same INSERTs and UPDATE as raw SQL would, as the
    finance role, under every guard (migration 0006)."""
    lines = [
        {
            "id": str(r.id),
            "line_no": r.line_no,
            "account_id": str(r.account_id),
            "debit": str(r.debit),
            "credit": str(r.credit),
            "currency": r.currency,
            "txn_amount": str(r.txn_amount),
            "fx_rate_id": str(r.fx_rate_id) if r.fx_rate_id else None,
            "fx_rate": str(r.fx_rate_value),
            "memo": r.memo,
        }
        for r in rows
    ]
    with connections[ALIAS].cursor() as cur:
        cur.execute(
            'SELECT * FROM "finance".journal_entry_create('
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)",
            [
                entry.id,
                entry.tenant_id,
                entry.company_id,
                entry.entry_date,
                entry.reference,
                entry.memo,
                entry.created_by,
                entry.idempotency_key,
                entry.request_hash,
                json.dumps(entry.request_payload) if entry.request_payload is not None else None,
                json.dumps(lines),
                post,
            ],
        )
        row = cur.fetchone()
    if post and row is not None and row[0] is not None:
        entry.status = JournalEntry.Status.POSTED
        entry.posting_seq, entry.posted_at, entry.posted_by = row


def _check_entry_total(rows: Sequence[JournalLine], base: str) -> None:
    for side in (DEBIT, CREDIT):
        total = sum((getattr(r, side) for r in rows), Decimal(0))
        limits.check_amount(total, base, field="lines", what=f"for an entry's {side}s")


def _refused_unsaved(exc: DatabaseError, entry_id: Any) -> ApplicationError:
    """A refusal while posting an entry created in the same request: the entry is rolled back
    with the request, so the error must not name it (a GET on that id would be a 404)."""
    error = errors.from_database(exc)
    message = error.message.replace(f"journal entry {entry_id}", "the journal entry")
    message = message.replace(str(entry_id), "the new entry")
    error.message = message[:1].upper() + message[1:]
    error.args = (error.message,)
    return error


def journal_add_line(
    *,
    actor: Actor,
    entry_id: uuid.UUID,
    account_id: uuid.UUID,
    side: str,
    amount: Decimal,
    memo: str = "",
) -> JournalLine:
    tenant_id = actor.tenant_id
    with unit(actor):
        entry = scoped_get(JournalEntry, tenant_id=tenant_id, pk=entry_id)
        if entry.status != JournalEntry.Status.DRAFT:
            raise Conflict(errors.ENTRY_NOT_DRAFT.format(id=entry.pk, status=entry.status))
        existing = list(JournalLine.objects.filter(tenant_id=tenant_id, entry=entry))
        (line,) = _insert_lines(
            tenant_id,
            entry.pk,
            entry.entry_date,
            entry.company_id,
            [LineInput(account_id, side, amount, memo)],
            len(existing) + 1,
            field="amount",
        )
        company = scoped_get(Company, tenant_id=tenant_id, pk=entry.company_id)
        _check_entry_total([*existing, line], company.base_currency)
    return line


def journal_post(*, actor: Actor, entry_id: uuid.UUID) -> JournalEntry:
    """Idempotent: posting a posted entry returns it unchanged. With its lines."""
    with_lines = JournalEntry.objects.prefetch_related("lines")
    with unit(actor):
        entry = scoped_get(with_lines, tenant_id=actor.tenant_id, pk=entry_id)
        if entry.status == JournalEntry.Status.DRAFT:
            _post(entry)
            if entry.status != JournalEntry.Status.POSTED:  # posted concurrently by someone else
                # Only then read it again: the other unit of work numbered it.
                entry = scoped_get(with_lines, tenant_id=actor.tenant_id, pk=entry_id)
    return entry


def journal_reverse(
    *,
    actor: Actor,
    entry_id: uuid.UUID,
    entry_date: dt.date | None = None,
    memo: str = "",
) -> JournalEntry:
    """Post the exact negation of a posted entry (same accounts, amounts and rates); the
    reversal comes with its lines."""
    if entry_date is not None:
        limits.check_accounting_date(entry_date, field="entry_date")
    tenant_id = actor.tenant_id
    with unit(actor):
        target = scoped_get(JournalEntry, tenant_id=tenant_id, pk=entry_id)
        if target.status != JournalEntry.Status.POSTED:
            raise Conflict(errors.ENTRY_NOT_POSTED.format(id=target.pk, status=target.status))
        existing = JournalEntry.objects.filter(tenant_id=tenant_id, reversal_of=target).first()
        if existing is not None:
            raise Conflict(
                errors.ALREADY_REVERSED.format(id=target.pk, reversal=existing.pk),
                extra={
                    "code": "finance_journalentry_one_reversal",
                    "reversal_id": str(existing.pk),
                },
            )
        reversal = JournalEntry(
            tenant_id=tenant_id,
            company_id=target.company_id,
            entry_date=entry_date or timezone.localdate(),
            reference=f"REV {target.reference}".strip()[:100],
            memo=memo or f"Reversal of entry #{target.posting_seq}",
            reversal_of=target,
            created_by=actor.label,
        )
        reversal.save(force_insert=True)
        lines = JournalLine.objects.bulk_create(
            [
                JournalLine(
                    tenant_id=tenant_id,
                    entry=reversal,
                    line_no=line.line_no,
                    account_id=line.account_id,
                    debit=line.credit,
                    credit=line.debit,
                    currency=line.currency,
                    txn_amount=line.txn_amount,
                    fx_rate_id=line.fx_rate_id,
                    fx_rate_value=line.fx_rate_value,
                    memo=line.memo,
                )
                for line in JournalLine.objects.filter(tenant_id=tenant_id, entry=target)
            ]
        )
        try:
            _post(reversal)
        except (IntegrityError, InternalError, DataError) as exc:
            raise _refused_unsaved(exc, reversal.pk) from exc
        attach_prefetched(reversal, "lines", lines)
    return reversal
