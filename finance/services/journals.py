"""Journals: draft entries, their lines, posting and reversal.

A new entry is one statement: ``finance.journal_entry_create`` (finance migration 0009) checks
the request next to the data, converts the lines, inserts the entry (POSTED when asked) and its
lines, and returns them; nothing is read back. The guarantees are the database's
(``finance/triggers/``): the checks before them only make the errors precise.
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
from aibos.errors import ApplicationError, Conflict, DatabaseRefusal
from finance import currencies, errors, limits, sql
from finance.models import Account, Company, FxRate, JournalEntry, JournalLine
from finance.selectors import fx_rate_valid_on
from finance.services._plumbing import ALIAS, CREDIT, DEBIT, unit, validate_amount


@dataclass(frozen=True)
class LineInput:
    account_id: uuid.UUID
    side: str  # "debit" | "credit"
    amount: Decimal  # in the account's currency
    memo: str = ""


def _account_context(
    tenant_id: uuid.UUID, company_id: Any, account_ids: set[Any]
) -> tuple[str, dict[Any, tuple[Any, str]]]:
    """The company's base currency and (company, currency) of each account, for a line added to
    a draft (a whole entry is checked by ``finance.journal_entry_create`` itself)."""
    company = scoped_get(Company, tenant_id=tenant_id, pk=company_id)
    accounts = {
        a.pk: (a.company_id, a.currency)
        for a in Account.objects.filter(tenant_id=tenant_id, pk__in=account_ids)
    }
    missing = account_ids - set(accounts)
    if missing:
        raise errors.NotFound(
            errors.NOT_FOUND.format(what="Account", id=sorted(map(str, missing))[0])
        )
    return company.base_currency, accounts


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
    base, accounts = context or _account_context(
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
    context: tuple[str, dict[Any, tuple[Any, str]]] | None = None,
    field: str = "lines[{i}].amount",
) -> list[JournalLine]:
    """The lines of :func:`_line_rows`, inserted in one statement."""
    rows = _line_rows(
        tenant_id, entry_id, entry_date, company_id, lines, first_line_no, context, field
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
            # By key only: the caller holds the draft (locked, or inserted by its own unit).
            'UPDATE "finance"."journal_entries" SET status = %s '
            "WHERE tenant_id = %s AND id = %s "
            "RETURNING posting_seq, posted_at, posted_by",
            [JournalEntry.Status.POSTED, entry.tenant_id, entry.pk],
        )
        row = cur.fetchone()
    if row is not None:
        entry.status = JournalEntry.Status.POSTED
        entry.posting_seq, entry.posted_at, entry.posted_by = row
    return entry


_CREATE_ENTRY = (
    'SELECT "finance".journal_entry_create(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, '
    "%s::uuid[], %s::text[], %s::numeric[], %s::text[], %s)"
)


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
    entry comes with its lines (``entry.lines.all()`` runs no query).

    One statement (``finance.journal_entry_create``): it checks and converts the lines, inserts
    the entry and its lines (POSTED when asked; the guards check and number it) and returns
    them, so nothing is read back."""
    limits.check_accounting_date(entry_date, field="entry_date")
    tenant_id = actor.tenant_id
    lines = list(lines)
    digest: str = ""
    payload: dict[str, Any] | None = None
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
    entry_id = uuid.uuid4()
    params: list[Any] = [
        entry_id,
        tenant_id,
        company_id,
        entry_date,
        reference,
        memo,
        actor.label,
        idempotency_key,
        digest,
        None if payload is None else json.dumps(payload),
        [x.account_id for x in lines],
        [x.side for x in lines],
        [x.amount for x in lines],
        [x.memo for x in lines],
        post,
    ]
    with unit(actor, one_statement=True), connections[ALIAS].cursor() as cur:
        try:
            cur.execute(_CREATE_ENTRY, params)
        except (IntegrityError, InternalError, DataError) as exc:
            raise _posting_refused(exc, entry_id, company_id) from exc
        (result,) = cur.fetchone()
    outcome = json.loads(result, parse_float=Decimal)
    entry = _entry_with_lines(outcome["entry"])
    if outcome["created"]:
        return entry, True
    assert idempotency_key is not None and payload is not None
    return idempotency.replay(entry, key=idempotency_key, digest=digest, payload=payload), False


def _from_row(model: Any, row: dict[str, Any]) -> Any:
    """A model instance from a row as ``to_jsonb`` renders it (keys are column names)."""
    fields = model._meta.concrete_fields
    return model.from_db(
        ALIAS, [f.attname for f in fields], [f.to_python(row[f.column]) for f in fields]
    )


def _entry_with_lines(row: dict[str, Any]) -> JournalEntry:
    entry: JournalEntry = _from_row(JournalEntry, row)
    attach_prefetched(entry, "lines", [_from_row(JournalLine, line) for line in row["lines"]])
    return entry


def _posting_refused(exc: DatabaseError, entry_id: Any, company_id: Any) -> ApplicationError:
    """The function refused the request (a ``finance_request_*`` rule, answered as it was before
    the checks moved into SQL), or a guard refused the entry."""
    refusal = DatabaseRefusal.of(exc)
    if refusal.sqlstate != sql.REQUEST_SQLSTATE or not refusal.rule.startswith("finance_request_"):
        return _refused_unsaved(exc, entry_id)
    diag = getattr(exc.__cause__, "diag", None)
    detail: dict[str, Any] = json.loads(getattr(diag, "message_detail", None) or "{}")
    rule = refusal.rule
    if rule == sql.REQUEST_COMPANY_MISSING:
        return errors.NotFound(errors.NOT_FOUND.format(what="Company", id=company_id))
    if rule == sql.REQUEST_ACCOUNT_MISSING:
        return errors.NotFound(errors.NOT_FOUND.format(what="Account", id=detail["id"]))
    if rule == sql.REQUEST_WRONG_COMPANY:
        return errors.Unprocessable(errors.WRONG_COMPANY.format(what="Account", id=detail["id"]))
    if rule == sql.REQUEST_DECIMALS:
        return errors.Unprocessable(errors.TOO_MANY_DECIMALS.format(**detail))
    if rule == sql.REQUEST_NO_FX_RATE:
        return errors.Unprocessable(errors.NO_FX_RATE.format(**detail))
    if rule == sql.REQUEST_AMOUNT_LIMIT:
        return limits.beyond_the_limit(
            detail["amount"], detail["currency"], field=detail["field"], what=detail["what"]
        )
    return errors.Unprocessable(errors.BAD_SIDE.format(**detail))


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
        context = _account_context(tenant_id, entry.company_id, {account_id})
        (line,) = _insert_lines(
            tenant_id,
            entry.pk,
            entry.entry_date,
            entry.company_id,
            [LineInput(account_id, side, amount, memo)],
            len(existing) + 1,
            context,
            field="amount",
        )
        _check_entry_total([*existing, line], context[0])
    return line


def journal_post(*, actor: Actor, entry_id: uuid.UUID) -> JournalEntry:
    """Idempotent: posting a posted entry returns it unchanged. With its lines."""
    with unit(actor):
        with_lines = JournalEntry.objects.prefetch_related("lines")  # needs the tenant context
        # Locked first: a line added concurrently (it updates the draft's count) waits for this
        # posting and is then refused, so the lines read here are the lines posted.
        entry = scoped_get(with_lines, tenant_id=actor.tenant_id, pk=entry_id, lock=True)
        if entry.status == JournalEntry.Status.DRAFT:
            _post(entry)
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
