"""State machines declared once, next to the status enum they govern.

A model declares its graph beside its ``Status`` enum::

    class Payment(TenantScopedModel):
        class Status(models.TextChoices): ...

        transitions = StateMachine(Status, initial=Status.DRAFT, edges={...})

The services ask the machine which moves are allowed (``sources``, ``allows``) and the model's
guard trigger is rendered from the same object (``pairs``, ``initial``, ``terminal``; see
``aibos.db.triggers.sql_values``), so the graph is never typed twice. The deployed trigger is
the migration's frozen copy of that rendering: a changed graph needs a new migration, and the
tests that walk every pair of statuses against the database fail until it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from django.db import models

S = TypeVar("S", bound=models.TextChoices)


class StateMachine(Generic[S]):
    """The allowed moves between the members of one ``TextChoices`` enum.

    A row is created in ``initial``; ``edges`` maps a state to the states it may move to
    (declaration order is kept: it is the order of the rendered SQL). A state with no way out is
    terminal. Staying in a state is no transition and is not declared.
    """

    def __init__(self, states: type[S], *, initial: S, edges: Mapping[S, Iterable[S]]) -> None:
        self.states: tuple[S, ...] = tuple(states)
        self.initial = self._member(initial)
        self._edges: dict[S, tuple[S, ...]] = {s: () for s in self.states}
        for source, targets in edges.items():
            # Keyed by member, not by hash: a member hashes by its name, a plain str by itself.
            key = self._member(source)
            if self._edges[key]:
                raise ValueError(f"{key}: declared twice")
            moves = tuple(self._member(t) for t in targets)
            if key in moves:
                raise ValueError(f"{key} -> {key}: staying in a state is no transition")
            if len(set(moves)) != len(moves):
                raise ValueError(f"{key}: a target is declared twice")
            self._edges[key] = moves

    def _member(self, value: str) -> S:
        for state in self.states:
            if state == value:
                return state
        raise ValueError(f"{value!r} is not one of {self.states}")

    @property
    def pairs(self) -> tuple[tuple[S, S], ...]:
        """Every allowed (from, to), sources in enum order, targets in declared order."""
        return tuple((s, t) for s in self.states for t in self._edges[s])

    @property
    def terminal(self) -> tuple[S, ...]:
        """States a row never leaves."""
        return tuple(s for s in self.states if not self._edges[s])

    def targets(self, source: str) -> tuple[S, ...]:
        return next((t for s, t in self._edges.items() if s == source), ())

    def sources(self, target: str) -> tuple[S, ...]:
        """The states a row may be in for a move to ``target`` (a service's allowed set)."""
        return tuple(s for s in self.states if target in self._edges[s])

    def allows(self, source: str, target: str) -> bool:
        return target in self.targets(source)

    def __repr__(self) -> str:
        moves = ", ".join(f"{s}->{t}" for s, t in self.pairs)
        return f"StateMachine({type(self.initial).__name__}: {moves})"
