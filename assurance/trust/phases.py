"""The Trust Test's later phases, as hooks with a fixed shape.

**Governance checks** (`GOVERNANCE_CHECKS`): a list of callables, each taking the run's
:class:`Dataset` and returning :class:`CheckOutcome` values (name, passed, detail, TSC ids,
group). The groups are the seeds' §14.6 table: tenant isolation, schema boundary, journal
integrity, immutability, audit chain: the catalog checks of
``aibos.db.governance_checks.run_checks`` and the governance views (both as the monitor role),
a balance check of the challenge journals, and the audit chains of the challenge tenants
(sealed, then recomputed against their signed checkpoints).

**Evidence export + verify** (:func:`evidence_steps`): the attacker tenant's pack is exported and
checked by its own stdlib verifier; either failing fails the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
    """The deployed catalog, read as the monitor role: roles, ownership, RLS, grants, triggers."""
    with connections["monitor"].cursor() as cur:
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


# kernel.v_governance_summary check -> (group, TSC ids)
_VIEWS = {
    "tenant_isolation": (TENANT_ISOLATION, ("CC6.1",)),
    "double_entry": (JOURNAL_INTEGRITY, ("PI1.3", "PI1.5")),
}


def governance_view_checks(ds: Dataset) -> list[CheckOutcome]:
    """kernel.v_governance_summary, read as aibos_monitor_role: computed from the catalog and
    the data of every tenant, not only the challenge ones."""
    from assurance.governance_views import read_governance_summary

    outcomes = []
    for row in read_governance_summary("monitor"):
        name = row["check_name"]
        group, tsc = _VIEWS.get(name) or (
            (SCHEMA_BOUNDARY, ("CC6.1", "CC6.2"))
            if name.startswith("schema_boundary")
            else (IMMUTABILITY, ("CC8.1", "PI1.5"))
        )
        failures = list(row["failures"] or [])
        outcomes.append(
            CheckOutcome(
                name=f"view.{name}",
                group=group,
                status=PASSED if row["status"] == "PASS" else FAILED,
                detail=f"{row['checked']} checked, {row['failed']} failed"
                + (f": {failures}" if failures else ""),
                tsc=tsc,
            )
        )
    return outcomes


def audit_chain_checks(ds: Dataset) -> list[CheckOutcome]:
    """Seal what is final, then recompute the challenge tenants' chains (and their signed
    checkpoints, when a key is configured); report every break."""
    from assurance.chain.checkpoints import read_checkpoints, system_identifier, write_heads
    from assurance.chain.sealer import SEALER_ALIAS, seal_until_caught_up
    from assurance.chain.verifier import verify_all
    from assurance.signing import key_path, load_signing_key

    sealed = seal_until_caught_up()
    for _ in range(50):  # an `audit_seal --follow` holds the lock: let it catch up instead
        if not sealed.locked_out:
            break
        time.sleep(0.1)
        sealed = seal_until_caught_up()
    tenants = [ds.a.tenant.id, ds.b.tenant.id]
    system_id = system_identifier(SEALER_ALIAS)
    public = None
    if key_path().exists():  # as `audit_seal` does: a signed checkpoint of each head it extended
        key = load_signing_key()
        write_heads(key, system_id, sealed.heads)
        public = key.public_raw
    issued = read_checkpoints(system_id)
    reports, inserted = verify_all(tenants, {t: issued.get(t, []) for t in tenants}, public)
    outcomes = []
    for report in reports:
        breaks = report.breaks + [b for b in inserted if b.tenant_id == report.tenant_id]
        outcomes.append(
            CheckOutcome(
                name=f"audit.chain_verifies.{report.tenant_id}",
                group=AUDIT_CHAIN,
                status=FAILED if breaks or report.size == 0 else PASSED,
                detail=f"{report.size} links, {report.checkpoints} checkpoints, "
                + (
                    f"{len(breaks)} breaks: {[str(b) for b in breaks[:5]]}"
                    if breaks
                    else "no breaks"
                ),
                tsc=("CC7.2", "PI1.5"),
            )
        )
    # Every event of the challenge tenants is sealed (their writers have all committed; other
    # tenants' load, or a long transaction elsewhere, does not fail this run).
    with connections[SEALER_ALIAS].cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM kernel.audit_events e WHERE e.tenant_id = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM kernel.audit_seals s WHERE s.event_id = e.id)",
            [tenants],
        )
        (unsealed,) = cur.fetchone()
    outcomes.append(
        CheckOutcome(
            name="audit.all_events_sealed",
            group=AUDIT_CHAIN,
            status=PASSED if unsealed == 0 else FAILED,
            detail=f"{unsealed} events of the challenge tenants not sealed after sealing",
            tsc=("CC7.2",),
        )
    )
    return outcomes


GOVERNANCE_CHECKS: list[GovernanceCheck] = [
    catalog_checks,
    governance_view_checks,
    journals_balance,
    audit_chain_checks,
]


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
    status: str  # PASS or FAIL
    detail: str


def evidence_steps(ds: Dataset, results: Path) -> list[EvidenceStep]:
    """Export the attacker tenant's evidence pack (it carries this run's results, written just
    before) and run the pack's own stdlib verifier on it."""
    from django.core.management.base import CommandError

    from assurance.evidence import export_pack
    from assurance.evidence import verify as pack_verify

    tenant = ds.a.tenant
    pack = results.parent / f"evidence-{tenant.slug}.zip"
    try:
        result = export_pack(tenant.id, tenant.slug, pack, trust_result=results)
    except CommandError as exc:
        return [EvidenceStep("evidence.export", FAILED, str(exc))]
    chain = result.manifest["chain"]
    steps = [
        EvidenceStep(
            "evidence.export",
            PASSED,
            f"{pack} ({pack.stat().st_size} bytes): {len(result.manifest['files'])} files, "
            f"{chain['events']} audit events (seq {chain['first_seq']}..{chain['last_seq']}), "
            f"{len(result.manifest['checkpoints'])} checkpoints, gaps {chain['gaps']}",
        )
    ]
    report = pack_verify.verify(str(pack))
    steps.append(
        EvidenceStep(
            "evidence.verify",
            FAILED if report.failures else PASSED,
            "; ".join(report.failures)
            if report.failures
            else f"verify.py: {len(report.passed)} checks passed (signature, files, chain, "
            "checkpoints, ledger)",
        )
    )
    return steps
