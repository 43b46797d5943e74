"""aibos/sarif.py: a valid SARIF 2.1.0 run, 1-based lines, stable fingerprints."""

from __future__ import annotations

import pytest

from aibos.sarif import FINGERPRINT_KEY, Result, Rule, build_sarif

RULES = [
    Rule("demo.first", "First", "The first rule", "error"),
    Rule("demo.second", "Second", "The second rule"),
]


def _doc(*results: Result) -> dict:  # type: ignore[type-arg]
    return build_sarif(tool_name="demo", tool_version="1.2.3", rules=RULES, results=results)


def test_document_shape_rules_and_levels() -> None:
    doc = _doc(
        Result("demo.second", "at a file", file="app/migrations/0002.py", line=7),
        Result("demo.first", "at a table", logical_location="finance.payments", level="warning"),
    )
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("demo", "1.2.3")
    assert driver["rules"][0] == {
        "id": "demo.first",
        "name": "First",
        "shortDescription": {"text": "The first rule"},
        "defaultConfiguration": {"level": "error"},
    }
    first, second = run["results"]
    assert first["ruleIndex"] == 1 and first["level"] == "warning"  # the rule's default
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/migrations/0002.py"},
                "region": {"startLine": 7},
            }
        }
    ]
    assert second["level"] == "warning"  # given, over the rule's "error"
    assert second["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": "finance.payments"}
    ]


def test_fingerprints_are_stable_and_ignore_line_moves() -> None:
    a = Result("demo.first", "msg", file="x.py", line=3, fingerprint_parts=("x.py", "key"))
    b = Result("demo.first", "msg", file="x.py", line=30, fingerprint_parts=("x.py", "key"))
    c = Result("demo.first", "msg", file="x.py", line=3, fingerprint_parts=("x.py", "other"))
    fp = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _doc(a, b, c)["runs"][0]["results"]]
    assert fp[0] == fp[1] != fp[2]
    assert fp[0] == _doc(a)["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="1-based"):
        Result("demo.first", "m", file="x.py", line=0)
    with pytest.raises(ValueError, match="level"):
        Rule("r", "R", "d", "fatal")
    with pytest.raises(ValueError, match="does not declare"):
        _doc(Result("demo.unknown", "m"))
