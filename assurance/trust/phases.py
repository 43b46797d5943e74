"""The Trust Test's later phases, as hooks with a fixed shape.

**Governance checks** (`GOVERNANCE_CHECKS`): a list of callables, each taking the run's
:class:`Dataset` and returning :class:`CheckOutcome` values (name, passed, detail, TSC ids,
group). The groups are the seeds' §14.6 table: tenant isolation, schema boundary, journal
integrity, immutability, audit chain. What exists today is wired in: the catalog checks of
``aibos.db.governance_checks.run_checks`` and a balance check of the challenge journals. The
audit chain check is a placeholder reported as PENDING (never as passed) until the audit-chain
work provides a verifier: append a callable here.

**Evidence export + verify** (`EVIDENCE_STEPS`): a placeholder step list, reported as NOT RUN.
The evidence-pack work replaces :func:`evidence_steps` with steps that export and verify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections

from aibos.db.governance_checks import run_checks
from aibos.tenancy import tenant_context

from .base import attacker
from .dataset import Dataset

TENANT_ISOLATION = "tenant isolation"
SCHEMA_BOUNDARY = "schema boundary"
JOURNAL_INTEGRITY = "journal integrity"
IMMUTABILITY = "immutability"
AUDIT_CHAIN = "audit chain"
GROUPS = (TENANT_ISOLATION, SCHEMA_BOUNDARY, JOURNAL_INTEGRITY, IMMUTABILITY, AUDIT_CHAIN)

PASSED, FAILED, PENDING = "PASS", "FAIL", "PENDING"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    group: str
    status: str  # PASS, FAIL or PENDING (not implemented yet: never counted as passed)
    detail: str
    tsc: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.status == PASSED


GovernanceCheck = Callable[[Dataset], list[CheckOutcome]]

# aibos.db.governance_checks names -> (group, TSC ids)
_CATALOG = {
    "roles": (TENANT_ISOLATION, ("CC6.1", "CC6.3")),
    "ownership": (TENANT_ISOLATION, ("CC6.1", "CC8.1")),
    "rls": (TENANT_ISOLATION, ("CC6.1",)),
    "policies": (TENANT_ISOLATION, ("CC6.1",)),
    "grants": (SCHEMA_BOUNDARY, ("CC6.1", "CC6.3")),
    "triggers": (IMMUTABILITY, ("CC8.1", "PI1.5")),
}


def catalog_checks(ds: Dataset) -> list[CheckOutcome]:
    """The deployed catalog (as the owner, read-only): roles, ownership, RLS, grants, triggers."""
    with connections["default"].cursor() as cur:
        results = run_checks(cur)
    return [
        CheckOutcome(
            name=f"catalog.{r.name}",
            group=_CATALOG.get(r.name, (IMMUTABILITY, ("CC8.1",)))[0],
            status=PASSED if r.passed else FAILED,
            detail=r.description if r.passed else "; ".join(r.problems)[:2000],
            tsc=_CATALOG.get(r.name, (IMMUTABILITY, ("CC8.1",)))[1],
        )
        for r in results
    ]


def journals_balance(ds: Dataset) -> list[CheckOutcome]:
    """Every POSTED journal of the challenge tenants balances and brings its recorded lines,
    read as the finance role in each tenant."""
    outcomes = []
    for side in (ds.a, ds.b):
        with (
            tenant_context(attacker(side.id), using=["finance"]),
            connections["finance"].cursor() as cur,
        ):
            cur.execute(
                "SELECT e.id FROM finance.journal_entries e "
                "LEFT JOIN finance.journal_lines l "
                "ON l.tenant_id = e.tenant_id AND l.entry_id = e.id "
                "WHERE e.status = 'POSTED' GROUP BY e.id, e.line_count "
                "HAVING COALESCE(sum(l.debit), 0) <> COALESCE(sum(l.credit), 0) "
                "OR count(l.id) <> e.line_count"
            )
            broken = [str(r[0]) for r in cur.fetchall()]
        outcomes.append(
            CheckOutcome(
                name=f"journals.balanced.{side.tenant.slug}",
                group=JOURNAL_INTEGRITY,
                status=FAILED if broken else PASSED,
                detail=f"unbalanced or incomplete: {broken}" if broken else "all POSTED balance",
                tsc=("PI1.3", "PI1.5"),
            )
        )
    return outcomes


def audit_chain_pending(ds: Dataset) -> list[CheckOutcome]:
    return [
        CheckOutcome(
            name="audit.chain_verifies",
            group=AUDIT_CHAIN,
            status=PENDING,
            detail="placeholder: the audit-chain verifier is not integrated yet",
            tsc=("CC7.2", "PI1.5"),
        )
    ]


GOVERNANCE_CHECKS: list[GovernanceCheck] = [catalog_checks, journals_balance, audit_chain_pending]


def governance_checks(ds: Dataset) -> list[CheckOutcome]:
    outcomes: list[CheckOutcome] = []
    for check in GOVERNANCE_CHECKS:
        try:
            outcomes += check(ds)
        except Exception as exc:
            outcomes.append(
                CheckOutcome(
                    name=getattr(check, "__name__", "check"),
                    group=IMMUTABILITY,
                    status=FAILED,
                    detail=f"{type(exc).__name__}: {exc}",
                    tsc=("CC8.1",),
                )
            )
    return outcomes


@dataclass(frozen=True)
class EvidenceStep:
    name: str
    status: str  # "NOT RUN" until the evidence-pack work implements it
    detail: str


NOT_RUN = "NOT RUN"
EVIDENCE_STEPS = (
    ("evidence.export", "export the evidence pack (deterministic ZIP, manifest, signature)"),
    ("evidence.verify_manifest", "verify every file's SHA-256 and row count"),
    ("evidence.verify_signature", "verify the manifest signature (Ed25519)"),
    ("evidence.verify_chain", "verify the audit chain against the last signed checkpoint"),
)


def evidence_steps(ds: Dataset) -> list[EvidenceStep]:
    """Placeholder: nothing is exported or verified yet, and nothing is reported as passed."""
    return [
        EvidenceStep(name=name, status=NOT_RUN, detail=f"placeholder, not implemented: {what}")
        for name, what in EVIDENCE_STEPS
    ]
