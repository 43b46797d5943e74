"""The ledger and payment invariants PostgreSQL enforces, whoever writes the rows.

Each function body below becomes a :class:`~aibos.db.triggers.GuardTrigger` on a model's
``Meta.triggers``: no pgtrigger ignore hook, functions owned by the owner role, and a pinned
``search_path`` (so every table is schema-qualified). Every refusal raises SQLSTATE 23514 (or
23P01 for overlaps) with ``CONSTRAINT`` set to a stable rule name, which the API maps to a 4xx
(``finance/errors.py``) and the tests assert on.

One source of truth: outside the journal bodies, a body is a function rendered when pgtrigger
compiles the trigger (:class:`~aibos.db.triggers.Rendered`), once every model exists. It takes
table names from the models' ``Meta.db_table``, status and decision literals from their enums,
and the payment, approval-matrix and settlement graphs from the ``transitions`` state machine
declared next to each ``Status`` enum, the same object the services check. The models import
this module, so the functions import the models only when they run. A migration freezes the
rendered text; ``makemigrations`` writes a new one when the text changes.

Concurrency, once for all of them (READ COMMITTED; every plpgsql statement takes a new snapshot):

- lines added to a draft update its ``line_count`` (a write, not only a lock: a REPEATABLE READ
  posting racing them fails to serialise instead of posting a stale set of lines), and posting
  updates the entry row, so a line can never slip into an entry between its balance check and its
  commit; a POSTED entry takes lines only from the statement that posted it;
- posting locks the company's posting-counter row (gap-free sequence) and the FX rates it uses
  (``FOR SHARE``), then the balance rows in account-id order (no deadlocks between entries that
  touch the same accounts);
- an approval locks its payment ``FOR UPDATE``: approvers racing for the last slot serialise,
  and the loser sees the payment already APPROVED.
"""

from finance.triggers._common import CHECK, SESSION_TENANT, refuse_truncate, word
from finance.triggers.intercompany import *  # noqa: F403
from finance.triggers.ledger import *  # noqa: F403
from finance.triggers.payments import *  # noqa: F403
from finance.triggers.reference import *  # noqa: F403

__all__ = ["CHECK", "SESSION_TENANT", "refuse_truncate", "word"]
