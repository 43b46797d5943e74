"""aibos.db.states.StateMachine: what the services ask and the guard triggers are rendered from."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models

from aibos.db.states import StateMachine
from aibos.db.triggers import sql_literal, sql_values


class Light(models.TextChoices):
    RED = "R"
    GREEN = "G"
    AMBER = "A"
    BROKEN = "X"


LIGHT = StateMachine(
    Light,
    initial=Light.RED,
    edges={
        Light.RED: (Light.GREEN, Light.BROKEN),
        Light.GREEN: (Light.AMBER, Light.BROKEN),
        Light.AMBER: (Light.RED, Light.BROKEN),
    },
)


def test_the_machine_answers_from_its_edges() -> None:
    assert LIGHT.states == (Light.RED, Light.GREEN, Light.AMBER, Light.BROKEN)
    assert LIGHT.pairs == (
        (Light.RED, Light.GREEN),
        (Light.RED, Light.BROKEN),
        (Light.GREEN, Light.AMBER),
        (Light.GREEN, Light.BROKEN),
        (Light.AMBER, Light.RED),
        (Light.AMBER, Light.BROKEN),
    )
    assert LIGHT.terminal == (Light.BROKEN,)
    assert LIGHT.sources(Light.BROKEN) == (Light.RED, Light.GREEN, Light.AMBER)
    assert LIGHT.sources(Light.RED) == (Light.AMBER,)
    assert LIGHT.targets(Light.BROKEN) == ()
    # Plain strings (a row's status as read from the database) are members' values.
    assert LIGHT.allows("R", "G") and not LIGHT.allows("G", "R") and not LIGHT.allows("R", "R")
    assert LIGHT.targets("nonsense") == () and not LIGHT.allows("nonsense", "G")
    # Declared with values instead of members, the graph is the same.
    by_value = StateMachine(Light, initial=Light.RED, edges={"R": ("G",)})
    assert by_value.pairs == ((Light.RED, Light.GREEN),)
    assert all(isinstance(s, Light) for pair in by_value.pairs for s in pair)


@pytest.mark.parametrize(
    "edges",
    [
        {Light.RED: (Light.RED,)},  # staying is no transition
        {Light.RED: (Light.GREEN, Light.GREEN)},
        {Light.RED: ("Z",)},  # not a member
        {"Z": (Light.RED,)},
    ],
)
def test_a_malformed_graph_is_refused(edges: dict[Any, Any]) -> None:
    with pytest.raises(ValueError):
        StateMachine(Light, initial=Light.RED, edges=edges)


def test_the_graph_renders_as_sql_values() -> None:
    assert sql_values(LIGHT.terminal) == "('X')"
    assert sql_values(LIGHT.pairs[:2]) == "(('R', 'G'), ('R', 'X'))"
    assert sql_literal("it's") == "'it''s'"
    with pytest.raises(ValueError):
        sql_values([])
