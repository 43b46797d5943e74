"""Finance writes: keyword-only, one transaction each on the finance alias, tenant and actor
explicit (``actor`` is ``user:<uuid>``, ``cell:<uuid>`` or ``command:<name>``).

The services are the friendly path: they check what they can up front to give precise errors.
The guarantees themselves are enforced by PostgreSQL (``finance/triggers.py``), so a bug here
or a raw SQL session cannot break them; a refusal from the database comes back as the same
kind of 4xx error (``finance.errors.from_database``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InternalError,
    OperationalError,
    connections,
)
from django.db import transaction as db_transaction
from django.db.models import QuerySet
from django.utils import timezone

from aibos.errors import ApplicationError, Conflict, DatabaseRefusal
from aibos.tenancy import tenant_context
from finance import currencies, errors, limits, sql
from finance.models import (
    Account,
    ApprovalBand,
    ApprovalMatrix,
    BankAccount,
    Company,
    DocumentMetadata,
    FxRate,
    IntercompanySettlement,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentApproval,
)
from finance.selectors import fx_rate_valid_on

ALIAS = "finance"
SETTLEMENT_CHECK = '"finance".guard_finance_settlement_posted'
DEBIT, CREDIT = "debit", "credit"


# --- plumbing ------------------------------------------------------------------------------


def _user_id(actor: str) -> str | None:
    return actor.removeprefix("user:") if actor.startswith("user:") else None


@contextmanager
def _unit(tenant_id: uuid.UUID, actor: str) -> Iterator[None]:
    """One transaction on the finance alias as ``actor``; a refusal by the database becomes a
    4xx ApplicationError once the transaction (or savepoint) is rolled back."""
    try:
        with tenant_context(tenant_id, user_id=_user_id(actor), actor=actor, using=[ALIAS]):
            yield
    except (IntegrityError, InternalError, DataError) as exc:
        raise errors.from_database(exc) from exc
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) in ("40001", "40P01"):
            raise errors.from_database(exc) from exc
        raise


def _get(model: Any, tenant_id: uuid.UUID, pk: Any, what: str, *, lock: bool = False) -> Any:
    qs = model.objects.filter(tenant_id=tenant_id, pk=pk)
    if lock:
        qs = qs.select_for_update()
    obj = qs.first()
    if obj is None:  # another tenant's row looks exactly like a missing one
        raise errors.NotFound(errors.NOT_FOUND.format(what=what, id=pk))
    return obj


def validate_currency(code: str) -> str:
    if not currencies.is_currency(code):
        raise errors.Unprocessable(errors.UNKNOWN_CURRENCY.format(code=code))
    return code


def validate_amount(amount: Decimal, currency: str) -> Decimal:
    if not currencies.fits_currency(amount, currency):
        raise errors.Unprocessable(
            errors.TOO_MANY_DECIMALS.format(
                amount=amount, currency=currency, places=currencies.minor_units(currency)
            )
        )
    return amount


def request_fingerprint(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SHA-256 of the canonical JSON of a request (sorted keys, amounts as strings)."""
    canonical = json.loads(json.dumps(payload, sort_keys=True, default=str))
    digest = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return digest, canonical


def _replay(existing: Any, key: str, digest: str, payload: dict[str, Any]) -> Any:
    """Same key, same request: the original result. Same key, other request: 409 naming fields."""
    if existing.request_hash == digest:
        return existing
    before = existing.request_payload or {}
    fields = sorted(k for k in set(before) | set(payload) if before.get(k) != payload.get(k))
    raise Conflict(
        errors.IDEMPOTENCY_MISMATCH.format(key=key, fields=", ".join(fields)),
        extra={"code": "idempotency_mismatch", "differing_fields": fields},
    )


def _is_idempotency_race(exc: DatabaseError) -> bool:
    rule = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
    return rule.endswith("_idempotency_unique")


def _create_once(model: Any, tenant_id: uuid.UUID, key: str, build: Any) -> tuple[Any, bool]:
    """Insert through ``build()`` unless ``key`` exists. Concurrent twins block on the unique key;
    the loser's savepoint rolls back and it returns the winner's row."""
    existing = model.objects.filter(tenant_id=tenant_id, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with db_transaction.atomic(using=ALIAS):
            return build(), True
    except IntegrityError as exc:
        if not _is_idempotency_race(exc):
            raise
    return model.objects.get(tenant_id=tenant_id, idempotency_key=key), False


# --- companies, accounts, FX ---------------------------------------------------------------


def company_create(
    *, tenant_id: uuid.UUID, actor: str, code: str, name: str, base_currency: str
) -> Company:
    company = Company(
        tenant_id=tenant_id,
        code=code,
        name=name,
        base_currency=validate_currency(base_currency.upper()),
    )
    with _unit(tenant_id, actor):
        if Company.objects.filter(tenant_id=tenant_id, code=code).exists():
            raise Conflict(errors.COMPANY_CODE_TAKEN.format(code=code))
        company.full_clean()
        company.save(force_insert=True)
    return company


def company_set_lock_dates(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    soft_lock_date: dt.date | None,
    hard_lock_date: dt.date | None,
) -> Company:
    with _unit(tenant_id, actor):
        company = _get(Company, tenant_id, company_id, "Company", lock=True)
        company.soft_lock_date = soft_lock_date
        company.hard_lock_date = hard_lock_date
        company.save(update_fields=["soft_lock_date", "hard_lock_date"])
    return company


def account_create(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    code: str,
    name: str,
    type: str,
    currency: str | None = None,
    parent_id: uuid.UUID | None = None,
) -> Account:
    with _unit(tenant_id, actor):
        company = _get(Company, tenant_id, company_id, "Company")
        if parent_id is not None:
            parent = _get(Account, tenant_id, parent_id, "Account")
            if parent.company_id != company.pk:
                raise errors.Unprocessable(
                    errors.WRONG_COMPANY.format(what="Parent account", id=parent_id)
                )
        if Account.objects.filter(tenant_id=tenant_id, company=company, code=code).exists():
            raise Conflict(errors.ACCOUNT_CODE_TAKEN.format(code=code))
        account = Account(
            tenant_id=tenant_id,
            company=company,
            code=code,
            name=name,
            type=type,
            currency=validate_currency(currency or company.base_currency),
            parent_id=parent_id,
        )
        account.full_clean(exclude=["company", "parent"])
        account.save(force_insert=True)
    return account


def bank_account_create(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    name: str,
    bank_code: str,
    account_number: str,
    ledger_account_id: uuid.UUID,
) -> BankAccount:
    with _unit(tenant_id, actor):
        ledger = _get(Account, tenant_id, ledger_account_id, "Account")
        if ledger.company_id != company_id:
            raise errors.Unprocessable(
                errors.WRONG_COMPANY.format(what="Account", id=ledger_account_id)
            )
        bank = BankAccount(
            tenant_id=tenant_id,
            company_id=company_id,
            name=name,
            bank_code=bank_code,
            account_number=account_number.replace(" ", ""),
            currency=ledger.currency,
            ledger_account=ledger,
        )
        bank.save(force_insert=True)
    return bank


def fx_rate_set(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    base: str,
    quote: str,
    rate: Decimal,
    valid_from: dt.date,
    source: str = "",
) -> FxRate:
    """A new rate from ``valid_from``; the open-ended rate it follows is closed that day."""
    limits.check_accounting_date(valid_from, field="valid_from")
    if base == quote:
        raise errors.Unprocessable(errors.SAME_CURRENCY, extra={"code": "finance_fxrate_pair"})
    validate_currency(base)
    validate_currency(quote)
    with _unit(tenant_id, actor):
        previous = (
            FxRate.objects.filter(
                tenant_id=tenant_id,
                base=base,
                quote=quote,
                valid_to__isnull=True,
                valid_from__lt=valid_from,
            )
            .select_for_update()
            .first()
        )
        if previous is not None:
            previous.valid_to = valid_from
            previous.save(update_fields=["valid_to"])
        fx = FxRate(
            tenant_id=tenant_id,
            base=base,
            quote=quote,
            rate=rate,
            valid_from=valid_from,
            source=source,
        )
        fx.save(force_insert=True)
    return fx


# --- journals ------------------------------------------------------------------------------


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
    a draft (a whole entry is validated by ``finance.journal_entry_create`` itself)."""
    company = _get(Company, tenant_id, company_id, "Company")
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


_CREATE_ENTRY = (
    'SELECT "finance".journal_entry_create(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, '
    "%s::uuid[], %s::text[], %s::numeric[], %s::text[], %s)"
)


def journal_create_draft(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    entry_date: dt.date,
    reference: str = "",
    memo: str = "",
    lines: Sequence[LineInput] = (),
    idempotency_key: str | None = None,
    post: bool = False,
) -> tuple[JournalEntry, bool]:
    """A draft entry with optional lines, optionally posted at once. Returns (entry, created);
    with an idempotency key, a replay returns the original entry and ``created=False``.

    One statement (``finance.journal_entry_create``): it validates and converts the lines, inserts
    the entry and its lines (POSTED when asked; the guards check and number it) and returns them,
    lines attached, so nothing is read back."""
    limits.check_accounting_date(entry_date, field="entry_date")
    lines = list(lines)
    digest: str = ""
    payload: dict[str, Any] | None = None
    if idempotency_key is not None:
        digest, payload = request_fingerprint(
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
        actor,
        idempotency_key,
        digest,
        None if payload is None else json.dumps(payload),
        [x.account_id for x in lines],
        [x.side for x in lines],
        [x.amount for x in lines],
        [x.memo for x in lines],
        post,
    ]
    with _unit(tenant_id, actor), connections[ALIAS].cursor() as cur:
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
    return _replay(entry, idempotency_key, digest, payload), False


def _from_row(model: Any, row: dict[str, Any]) -> Any:
    """A model instance from a row as ``to_jsonb`` renders it (keys are column names)."""
    fields = model._meta.concrete_fields
    return model.from_db(
        ALIAS, [f.attname for f in fields], [f.to_python(row[f.column]) for f in fields]
    )


def _entry_with_lines(row: dict[str, Any]) -> JournalEntry:
    """The entry and, as if prefetched, its lines: ``entry.lines.all()`` reads nothing."""
    entry: JournalEntry = _from_row(JournalEntry, row)
    lines: QuerySet[JournalLine] = QuerySet(model=JournalLine)
    lines._result_cache = [_from_row(JournalLine, line) for line in row["lines"]]
    lines._prefetch_done = True  # type: ignore[attr-defined]
    entry._prefetched_objects_cache = {"lines": lines}  # type: ignore[attr-defined]
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
    tenant_id: uuid.UUID,
    actor: str,
    entry_id: uuid.UUID,
    account_id: uuid.UUID,
    side: str,
    amount: Decimal,
    memo: str = "",
) -> JournalLine:
    with _unit(tenant_id, actor):
        entry = _get(JournalEntry, tenant_id, entry_id, "Journal entry")
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
        company = _get(Company, tenant_id, entry.company_id, "Company")
        _check_entry_total([*existing, line], company.base_currency)
    return line


def journal_post(*, tenant_id: uuid.UUID, actor: str, entry_id: uuid.UUID) -> JournalEntry:
    """Idempotent: posting a posted entry returns it unchanged."""
    with _unit(tenant_id, actor):
        entry = _get(JournalEntry, tenant_id, entry_id, "Journal entry")
        if entry.status == JournalEntry.Status.DRAFT:
            _post(entry)
            if entry.status != JournalEntry.Status.POSTED:  # posted concurrently by someone else
                entry = _get(JournalEntry, tenant_id, entry_id, "Journal entry")
    return entry


def journal_reverse(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    entry_id: uuid.UUID,
    entry_date: dt.date | None = None,
    memo: str = "",
) -> JournalEntry:
    """Post the exact negation of a posted entry (same accounts, amounts and rates)."""
    if entry_date is not None:
        limits.check_accounting_date(entry_date, field="entry_date")
    with _unit(tenant_id, actor):
        target = _get(JournalEntry, tenant_id, entry_id, "Journal entry")
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
            created_by=actor,
        )
        reversal.save(force_insert=True)
        JournalLine.objects.bulk_create(
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
    return reversal


# --- approval matrices ---------------------------------------------------------------------


@dataclass(frozen=True)
class BandInput:
    min_amount: Decimal
    max_amount: Decimal | None
    required_approvals: int
    approver_roles: Sequence[str]
    required_roles: Sequence[str] = ()


def approval_matrix_create(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    payment_type: str,
    currency: str,
    bands: Sequence[BandInput],
) -> ApprovalMatrix:
    """A new DRAFT version of the matrix; activate it with ``approval_matrix_activate``."""
    validate_currency(currency)
    with _unit(tenant_id, actor):
        company = _get(Company, tenant_id, company_id, "Company")
        latest = (
            ApprovalMatrix.objects.filter(
                tenant_id=tenant_id, company=company, payment_type=payment_type, currency=currency
            )
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        matrix = ApprovalMatrix(
            tenant_id=tenant_id,
            company=company,
            payment_type=payment_type,
            currency=currency,
            version=(latest or 0) + 1,
            created_by=actor,
        )
        matrix.full_clean(exclude=["company"])
        matrix.save(force_insert=True)
        for band in bands:
            ApprovalBand(
                tenant_id=tenant_id,
                matrix=matrix,
                min_amount=band.min_amount,
                max_amount=band.max_amount,
                required_approvals=band.required_approvals,
                approver_roles=list(band.approver_roles),
                required_roles=list(band.required_roles),
            ).save(force_insert=True)
    return matrix


def approval_matrix_activate(
    *, tenant_id: uuid.UUID, actor: str, matrix_id: uuid.UUID
) -> ApprovalMatrix:
    """Retire the active version (if any) and activate this one, atomically; the database
    refuses bands that do not cover [0, infinity) without gaps or overlaps."""
    with _unit(tenant_id, actor):
        matrix = _get(ApprovalMatrix, tenant_id, matrix_id, "Approval matrix", lock=True)
        if matrix.status not in ApprovalMatrix.transitions.sources(ApprovalMatrix.Status.ACTIVE):
            raise Conflict(errors.MATRIX_NOT_DRAFT.format(id=matrix.pk, status=matrix.status))
        ApprovalMatrix.objects.filter(
            tenant_id=tenant_id,
            company_id=matrix.company_id,
            payment_type=matrix.payment_type,
            currency=matrix.currency,
            status=ApprovalMatrix.Status.ACTIVE,
        ).update(status=ApprovalMatrix.Status.RETIRED)
        matrix.status = ApprovalMatrix.Status.ACTIVE
        matrix.save(update_fields=["status"])
        matrix.refresh_from_db(fields=["activated_at"])
    return matrix


# --- payments ------------------------------------------------------------------------------


def payment_create(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    idempotency_key: str,
    company_id: uuid.UUID,
    payment_type: str,
    amount: Decimal,
    currency: str,
    bank_account_id: uuid.UUID,
    debit_account_id: uuid.UUID,
    beneficiary_name: str,
    beneficiary_account: str,
    reference: str = "",
) -> tuple[Payment, bool]:
    validate_currency(currency)
    validate_amount(amount, currency)
    digest, payload = request_fingerprint(
        {
            "company_id": company_id,
            "payment_type": payment_type,
            "amount": str(amount),
            "currency": currency,
            "bank_account_id": bank_account_id,
            "debit_account_id": debit_account_id,
            "beneficiary_name": beneficiary_name,
            "beneficiary_account": beneficiary_account,
            "reference": reference,
        }
    )

    def build() -> Payment:
        company = _get(Company, tenant_id, company_id, "Company")
        bank = _get(BankAccount, tenant_id, bank_account_id, "Bank account")
        debit = _get(Account, tenant_id, debit_account_id, "Account")
        for what, obj in (("Bank account", bank), ("Account", debit)):
            if obj.company_id != company.pk:
                raise errors.Unprocessable(errors.WRONG_COMPANY.format(what=what, id=obj.pk))
            if obj.currency != currency:
                raise errors.Unprocessable(
                    errors.WRONG_CURRENCY.format(what=what, actual=obj.currency, expected=currency)
                )
        payment = Payment(
            tenant_id=tenant_id,
            company=company,
            payment_type=payment_type,
            amount=amount,
            currency=currency,
            bank_account=bank,
            debit_account=debit,
            beneficiary_name=beneficiary_name,
            beneficiary_account=beneficiary_account.replace(" ", ""),
            reference=reference,
            requested_by=actor,
            idempotency_key=idempotency_key,
            request_hash=digest,
            request_payload=payload,
        )
        payment.save(force_insert=True)
        return payment

    with _unit(tenant_id, actor):
        payment, created = _create_once(Payment, tenant_id, idempotency_key, build)
        if not created:
            payment = _replay(payment, idempotency_key, digest, payload)
    return payment, created


def _policy_for(payment: Payment, company: Company, on: dt.date) -> dict[str, Any]:
    """The band of the active matrix that holds the amount: a matrix in the payment's currency
    first, else the one in the company currency with the amount converted at the stored rate."""
    for currency in dict.fromkeys([payment.currency, company.base_currency]):
        matrix = ApprovalMatrix.objects.filter(
            tenant_id=payment.tenant_id,
            company_id=payment.company_id,
            payment_type=payment.payment_type,
            currency=currency,
            status=ApprovalMatrix.Status.ACTIVE,
        ).first()
        if matrix is None:
            continue
        fx = None
        amount = payment.amount
        if currency != payment.currency:
            fx = fx_rate_valid_on(
                tenant_id=payment.tenant_id, base=payment.currency, quote=currency, on=on
            )
            if fx is None:
                raise errors.Unprocessable(
                    errors.NO_FX_RATE.format(base=payment.currency, quote=currency, date=on)
                )
            amount = currencies.round_to_currency(amount * fx.rate, currency)
            limits.check_amount(
                amount,
                currency,
                field="amount",
                what=f"once converted from {payment.amount} {payment.currency}",
            )
        band = (
            ApprovalBand.objects.filter(
                tenant_id=payment.tenant_id, matrix=matrix, min_amount__lte=amount
            )
            .order_by("-min_amount")
            .first()
        )
        assert band is not None  # an active matrix covers [0, infinity): enforced on activation
        return {
            "policy_matrix": matrix,
            "policy_band": band,
            "policy_currency": currency,
            "policy_amount": amount,
            "policy_fx_rate": fx,
            "policy_fx_rate_value": fx.rate if fx else None,
            "required_approvals": band.required_approvals,
            "approver_roles": list(band.approver_roles),
            "required_roles": list(band.required_roles),
        }
    raise errors.Unprocessable(
        errors.NO_ACTIVE_MATRIX.format(
            company=company.code,
            payment_type=payment.payment_type,
            currency=payment.currency,
            base=company.base_currency,
        )
    )


def _transition_check(payment: Payment, allowed: Sequence[str], action: str) -> None:
    if payment.status not in allowed:
        raise Conflict(
            errors.BAD_TRANSITION.format(id=payment.pk, status=payment.status, action=action),
            extra={"code": "finance_payment_transition", "status": payment.status},
        )


def payment_submit(*, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID) -> Payment:
    """Freeze the approval policy onto the payment; later matrix edits never change it."""
    with _unit(tenant_id, actor):
        payment = _get(Payment, tenant_id, payment_id, "Payment", lock=True)
        _transition_check(
            payment, Payment.transitions.sources(Payment.Status.SUBMITTED), "submitted"
        )
        company = _get(Company, tenant_id, payment.company_id, "Company")
        for field, value in _policy_for(payment, company, timezone.localdate()).items():
            setattr(payment, field, value)
        payment.status = Payment.Status.SUBMITTED
        payment.save()
        payment.refresh_from_db(fields=["submitted_at", "version"])
    return payment


def role_names_for(*, tenant_id: uuid.UUID, user_id: str) -> set[str]:
    from kernel.selectors import role_names_for_user

    with tenant_context(tenant_id, using=["kernel"]):
        return role_names_for_user(tenant_id=tenant_id, user_id=user_id)


def approval_grant_for(
    *, tenant_id: uuid.UUID, user_id: str, payment_id: uuid.UUID, role: str, decision: str
) -> dict[str, object]:
    """The identity plane's signed grant the approval guard requires (on the kernel alias)."""
    from kernel.services import approval_grant_issue

    return approval_grant_issue(
        tenant_id=tenant_id, user_id=user_id, payment_id=payment_id, role=role, decision=decision
    )


def _decide(
    *, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID, decision: str, reason: str
) -> Payment:
    user_id = _user_id(actor)
    action = "approve" if decision == PaymentApproval.Decision.APPROVE else "reject"
    if user_id is None:
        raise errors.Forbidden(errors.NOT_A_USER.format(action=action))
    roles = role_names_for(tenant_id=tenant_id, user_id=user_id)
    with _unit(tenant_id, actor):
        # Lock first: racing approvers queue here (the approval trigger locks the row too).
        payment = _get(Payment, tenant_id, payment_id, "Payment", lock=True)
        approving = decision == PaymentApproval.Decision.APPROVE
        outcome = Payment.Status.APPROVED if approving else Payment.Status.REJECTED
        _transition_check(payment, Payment.transitions.sources(outcome), outcome.lower())
        if payment.requested_by == actor:
            raise errors.Forbidden(errors.SELF_APPROVAL)
        # One read of the decisions so far (the row lock above keeps them stable).
        prior = list(
            PaymentApproval.objects.filter(tenant_id=tenant_id, payment=payment).values_list(
                "approver", "decision", "approver_role"
            )
        )
        if any(approver == actor for approver, _, _ in prior):
            raise Conflict(errors.ALREADY_DECIDED)
        present = {r for _, d, r in prior if d == PaymentApproval.Decision.APPROVE}
        approvals = len([d for _, d, _ in prior if d == PaymentApproval.Decision.APPROVE])
        eligible = [r for r in payment.approver_roles if r in roles]
        if not eligible:
            raise errors.Forbidden(
                errors.NOT_AN_APPROVER.format(roles=", ".join(payment.approver_roles))
            )
        # Sign with a required role still missing if the approver holds one.
        missing = [r for r in payment.required_roles if r not in present and r in eligible]
        role = missing[0] if missing else eligible[-1]
        # The database accepts the decision only with the identity plane's signature for it.
        # Asked for here, under the payment lock, because the role depends on the decisions
        # read above: one short round trip on the kernel connection.
        grant = approval_grant_for(
            tenant_id=tenant_id,
            user_id=user_id,
            payment_id=payment.pk,
            role=role,
            decision=decision,
        )
        PaymentApproval(
            tenant_id=tenant_id,
            payment=payment,
            requester=payment.requested_by,
            approver=actor,
            decision=decision,
            reason=reason,
            approver_role=role,
            approval_grant=grant,
        ).save(force_insert=True)
        if decision == PaymentApproval.Decision.REJECT:
            payment.status = Payment.Status.REJECTED
        elif approvals + 1 >= (payment.required_approvals or 0) and set(
            payment.required_roles
        ) <= present | {role}:
            payment.status = Payment.Status.APPROVED
        if payment.status != Payment.Status.SUBMITTED:
            payment.save(update_fields=["status"])
        payment.refresh_from_db()  # the timestamps and version the database set
    return payment


def payment_approve(
    *, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID, reason: str = ""
) -> Payment:
    return _decide(
        tenant_id=tenant_id,
        actor=actor,
        payment_id=payment_id,
        decision=PaymentApproval.Decision.APPROVE,
        reason=reason,
    )


def payment_reject(
    *, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID, reason: str
) -> Payment:
    if not reason.strip():
        raise errors.Unprocessable(errors.REJECTION_NEEDS_REASON)
    return _decide(
        tenant_id=tenant_id,
        actor=actor,
        payment_id=payment_id,
        decision=PaymentApproval.Decision.REJECT,
        reason=reason.strip(),
    )


def payment_cancel(*, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID) -> Payment:
    with _unit(tenant_id, actor):
        payment = _get(Payment, tenant_id, payment_id, "Payment", lock=True)
        _transition_check(
            payment, Payment.transitions.sources(Payment.Status.CANCELLED), "cancelled"
        )
        payment.status = Payment.Status.CANCELLED
        payment.save(update_fields=["status"])
        payment.refresh_from_db()
    return payment


def payment_mark_paid(
    *, tenant_id: uuid.UUID, actor: str, payment_id: uuid.UUID, paid_on: dt.date | None = None
) -> Payment:
    """Post Dr debit account / Cr bank for the payment and mark it PAID, in one transaction.
    Idempotent: a PAID payment is returned as it is."""
    if paid_on is not None:
        limits.check_accounting_date(paid_on, field="paid_on")
    with _unit(tenant_id, actor):
        # Lock: two "mark paid" calls racing must not post twice.
        payment = _get(Payment, tenant_id, payment_id, "Payment", lock=True)
        if payment.status == Payment.Status.PAID:
            return payment
        _transition_check(payment, Payment.transitions.sources(Payment.Status.PAID), "marked paid")
        bank = _get(BankAccount, tenant_id, payment.bank_account_id, "Bank account")
        entry, _ = journal_create_draft(
            tenant_id=tenant_id,
            actor=actor,
            company_id=payment.company_id,
            entry_date=paid_on or timezone.localdate(),
            reference=(payment.reference or f"PAY {payment.pk}")[:100],
            memo=f"Payment to {payment.beneficiary_name}",
            lines=[
                LineInput(payment.debit_account_id, DEBIT, payment.amount),
                LineInput(bank.ledger_account_id, CREDIT, payment.amount),
            ],
            post=True,
        )
        payment.journal_entry = entry
        payment.status = Payment.Status.PAID
        payment.save(update_fields=["journal_entry", "status"])
        payment.refresh_from_db()
    return payment


# --- documents -----------------------------------------------------------------------------


def document_attach(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    company_id: uuid.UUID,
    provider: str,
    locator: str,
    content_hash: str,
    size_bytes: int,
    mime_type: str,
    filename: str = "",
    journal_entry_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> DocumentMetadata:
    """Record an attachment already written to tenant storage (metadata only; immutable)."""
    with _unit(tenant_id, actor):
        document = DocumentMetadata(
            tenant_id=tenant_id,
            company_id=company_id,
            journal_entry_id=journal_entry_id,
            payment_id=payment_id,
            provider=provider,
            locator=locator,
            content_hash=content_hash.lower(),
            size_bytes=size_bytes,
            mime_type=mime_type,
            filename=filename,
            uploaded_by=actor,
        )
        document.full_clean(exclude=["company", "journal_entry", "payment"])
        document.save(force_insert=True)
    return document


# --- intercompany --------------------------------------------------------------------------


def intercompany_settle(
    *,
    tenant_id: uuid.UUID,
    actor: str,
    from_bank_account_id: uuid.UUID,
    to_bank_account_id: uuid.UUID,
    from_account_id: uuid.UUID,
    to_account_id: uuid.UUID,
    amount: Decimal,
    entry_date: dt.date,
    reference: str = "",
) -> IntercompanySettlement:
    """Record the settlement and post both sides; the database refuses to commit a SETTLED
    settlement without a posted entry in each company (a deferred trigger)."""
    with _unit(tenant_id, actor):
        from_bank = _get(BankAccount, tenant_id, from_bank_account_id, "Bank account")
        to_bank = _get(BankAccount, tenant_id, to_bank_account_id, "Bank account")
        if from_bank.company_id == to_bank.company_id:
            raise errors.Unprocessable(errors.SAME_COMPANY)
        if from_bank.currency != to_bank.currency:
            raise errors.Unprocessable(
                errors.WRONG_CURRENCY.format(
                    what="The receiving bank account",
                    actual=to_bank.currency,
                    expected=from_bank.currency,
                )
            )
        validate_amount(amount, from_bank.currency)
        settlement = IntercompanySettlement(
            tenant_id=tenant_id,
            from_company_id=from_bank.company_id,
            to_company_id=to_bank.company_id,
            amount=amount,
            currency=from_bank.currency,
            from_bank_account=from_bank,
            to_bank_account=to_bank,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            reference=reference,
            requested_by=actor,
        )
        settlement.save(force_insert=True)
        sides = (
            (from_bank.company_id, from_account_id, DEBIT, from_bank.ledger_account_id, CREDIT),
            (to_bank.company_id, to_bank.ledger_account_id, DEBIT, to_account_id, CREDIT),
        )
        entries = []
        for company_id, first, first_side, second, second_side in sides:
            entry, _ = journal_create_draft(
                tenant_id=tenant_id,
                actor=actor,
                company_id=company_id,
                entry_date=entry_date,
                reference=(reference or f"IC {settlement.pk}")[:100],
                memo="Intercompany settlement",
                lines=[
                    LineInput(first, first_side, amount),
                    LineInput(second, second_side, amount),
                ],
                post=True,
            )
            entries.append(entry)
        settlement.from_entry, settlement.to_entry = entries
        settlement.status = IntercompanySettlement.Status.SETTLED
        settlement.save(update_fields=["from_entry", "to_entry", "status"])
        # Fire the deferred check now rather than at the caller's COMMIT, so a refusal is this
        # service's 4xx, not an error while the request commits.
        with connections[ALIAS].cursor() as cur:
            cur.execute(f"SET CONSTRAINTS {SETTLEMENT_CHECK} IMMEDIATE")
            cur.execute(f"SET CONSTRAINTS {SETTLEMENT_CHECK} DEFERRED")
    return settlement


__all__ = [
    "ApplicationError",
    "BandInput",
    "LineInput",
    "account_create",
    "approval_matrix_activate",
    "approval_matrix_create",
    "bank_account_create",
    "company_create",
    "company_set_lock_dates",
    "document_attach",
    "fx_rate_set",
    "intercompany_settle",
    "journal_add_line",
    "journal_create_draft",
    "journal_post",
    "journal_reverse",
    "payment_approve",
    "payment_cancel",
    "payment_create",
    "payment_mark_paid",
    "payment_reject",
    "payment_submit",
]
