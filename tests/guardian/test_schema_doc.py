"""guardian.schema_doc and ``manage.py schema_doc`` on the migrated test database."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from aibos.db.roles import MONITOR_ROLE, SCHEMAS
from guardian.catalog import read_catalog
from guardian.schema_doc import DocInputs, render
from guardian.schema_doc.build import compare, generate
from guardian.schema_doc.conventions import check_conventions
from guardian.schema_doc.inputs import NO_SELECT, read_row_counts, row_count_class

pytestmark = pytest.mark.django_db

HAS_DOT = shutil.which("dot") is not None


@dataclass(frozen=True)
class FakeFinding:
    rule: str
    level: str
    message: str


def _sql(*statements: str) -> None:
    with connections["default"].cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def _text(documents: dict[str, bytes], name: str) -> str:
    return documents[name].decode()


def test_two_generations_are_byte_identical() -> None:
    first = generate(connections["default"])
    second = generate(connections["default"])
    assert first == second
    expected = {"README.md", "er-diagram.dot", *(f"{s}.md" for s in SCHEMAS)}
    assert expected <= set(first)
    assert ("er-diagram.svg" in first) is HAS_DOT


def test_no_oids_sizes_or_dates_in_the_markdown() -> None:
    with connections["default"].cursor() as cur:
        cur.execute("SELECT 'finance.journal_entries'::regclass::oid::int")
        (oid,) = cur.fetchone()
    documents = generate(connections["default"], svg=False)
    for name, content in documents.items():
        text = content.decode()
        assert not re.search(rf"\b{oid}\b", text), name
        assert not re.search(r"\b20\d\d-\d\d-\d\d[ T]\d\d:", text), name  # no timestamps
        assert not re.search(r"\b\d+ (bytes|kB|MB)\b", text), name


def test_the_document_covers_the_templates_sections_from_the_live_database() -> None:
    readme = _text(generate(connections["default"], svg=False), "README.md")
    for heading in (
        "## 1. Database technology & version",
        "## 2. ER diagram",
        "## 3. Schema conventions",
        "## 4. Tables by domain",
        "## 5. Enums & sequences",
        "## 6. Views & materialized views",
        "## 7. Functions",
        "## 8. Migration strategy & tooling",
    ):
        assert heading in readme
    assert "{{" not in readme  # no template placeholder survives
    # Relationships from foreign keys, qualified by schema in the overview.
    assert "finance__companies ||--o{ finance__journal_entries" in readme
    assert "`kernel.audit_capture(" in readme  # functions, with identity arguments
    assert "`kernel.v_tenant_health`" in readme
    assert "| `finance` |" in readme  # applied migrations per app


def test_a_table_is_documented_in_full_on_its_schema_page() -> None:
    finance = _text(generate(connections["default"], svg=False), "finance.md")
    section = finance.split("### `finance.journal_entries`")[1].split("\n### ")[0]
    assert "| Row-level security | enabled and forced |" in section
    assert "`tenant_isolation` | ALL | permissive | PUBLIC |" in section
    assert "current_setting('app.tenant_id'" in section
    assert "`finance_entry_recent_idx` | `tenant_id, created_at, id`" in section
    assert "| `aibos_finance_role` | SELECT, INSERT, DELETE |" in section
    assert "`kernel.audit_capture`" in section  # the audit trigger
    assert "| Rows after migrate | empty |" in section
    assert "companies ||--o{ journal_entries" in finance  # the schema's own diagram


def test_findings_render_in_the_table_section_and_the_index() -> None:
    catalog = read_catalog(connections["default"], SCHEMAS)
    findings = {
        "finance.journal_entries": [
            FakeFinding("G042", "warning", "index x | y duplicates z"),
            FakeFinding("G001", "error", "first by rule id"),
        ]
    }
    documents = render(DocInputs(catalog=catalog, findings=findings), svg=False)
    section = _text(documents, "finance.md").split("### `finance.journal_entries`")[1]
    section = section.split("\n### ")[0]
    assert "| `G001` | error | first by rule id |" in section
    assert "| `G042` | warning | index x \\| y duplicates z |" in section  # pipe escaped
    assert section.index("G001") < section.index("G042")
    readme = _text(documents, "README.md")
    row = next(line for line in readme.splitlines() if "finance.md#finance-journal-entries" in line)
    assert row.endswith("| 2 |")
    other = _text(documents, "finance.md").split("### `finance.journal_lines`")[1]
    assert "#### Guardian findings\n\nNone." in other


def test_the_command_takes_the_findings_source_as_a_parameter(tmp_path: Path) -> None:
    from guardian.management.commands.schema_doc import Command

    Command().run(
        findings_source=lambda catalog: {
            "kernel.users": [FakeFinding("G007", "info", "from the source")]
        },
        out=str(tmp_path),
        check=False,
        database="default",
        no_svg=True,
    )
    assert "| `G007` | info | from the source |" in (tmp_path / "kernel.md").read_text()


def test_row_count_classes_are_exact_capped_counts() -> None:
    _sql(
        "CREATE TABLE finance.doc_rows_many AS SELECT g AS n FROM generate_series(1, 1500) g",
        "CREATE TABLE finance.doc_rows_none (n int)",
        "CREATE TABLE finance.doc_rows_few AS SELECT 1 AS n",
    )
    catalog = read_catalog(connections["default"], ["finance"])
    counts, role = read_row_counts(connections["default"], catalog.tables)
    assert counts["finance.doc_rows_many"] == 1500
    classes = [row_count_class(counts[f"finance.doc_rows_{n}"]) for n in ("none", "few", "many")]
    assert classes == ["empty", "< 1k", "1k\u2013100k"]
    assert row_count_class(100_000) == "≥ 100k"
    with connections["default"].cursor() as cur:
        cur.execute("SELECT current_user")
        assert (role,) == cur.fetchone()  # the counting role is reported


def test_the_monitor_generates_the_document_and_cannot_count_what_it_cannot_read() -> None:
    _sql(f"SET ROLE {MONITOR_ROLE}")
    try:
        catalog = read_catalog(connections["default"], SCHEMAS)
        counts, role = read_row_counts(connections["default"], catalog.tables)
    finally:
        _sql("RESET ROLE")
    assert role == MONITOR_ROLE
    assert counts["finance.journal_entries"] == NO_SELECT  # column grants only
    assert row_count_class(NO_SELECT) == "not readable"


def test_conventions_name_the_tables_where_they_do_not_hold() -> None:
    _sql(
        "CREATE TABLE finance.doc_loose (id bigint PRIMARY KEY, tenant_id uuid, "
        "amount double precision, at timestamp)",
        "CREATE VIEW finance.doc_definer_view AS SELECT 1 AS one",
        "GRANT SELECT ON finance.doc_loose TO PUBLIC",
    )
    results = {r.title: r for r in check_conventions(read_catalog(connections["default"], SCHEMAS))}

    def exceptions(prefix: str) -> tuple[str, ...]:
        return next(r for t, r in results.items() if t.startswith(prefix)).exceptions

    assert any("finance.doc_loose: RLS enabled=False" in e for e in exceptions("Tenant rows"))
    assert exceptions("Tenant-leading") == ("finance.doc_loose",)
    assert "finance.doc_loose.id is bigint" in exceptions("UUID")
    assert exceptions("Timestamps with") == ("finance.doc_loose.at is timestamp without time zone",)
    assert exceptions("Exact money") == ("finance.doc_loose.amount is double precision",)
    assert exceptions("Views run") == ("finance.doc_definer_view",)
    least = exceptions("Least-privilege")
    assert "PUBLIC has SELECT on finance.doc_loose" in least
    assert any("finance.doc_loose is owned by" in e for e in least)  # created by the test owner


def test_the_migrated_schema_keeps_its_conventions() -> None:
    results = {r.title: r for r in check_conventions(read_catalog(connections["default"], SCHEMAS))}
    for title in (
        "Tenant rows: `tenant_id` and forced row-level security",
        "Tenant-leading indexes",
        "No cross-schema foreign keys",
        "Timestamps with time zone",
        "Exact money",
        "Least-privilege roles",
        "Views run as the invoker",
    ):
        assert results[title].holds, (title, results[title].exceptions)
        assert results[title].applies_to > 0


# --- the command: write, --check, staleness ------------------------------------------------


def test_check_passes_on_a_fresh_copy_and_names_the_stale_file(tmp_path: Path) -> None:
    out = str(tmp_path / "schema")
    call_command("schema_doc", "--out", out, "--no-svg")
    call_command("schema_doc", "--out", out, "--no-svg", "--check")  # up to date: no error

    _sql("CREATE TABLE finance.doc_new_table (tenant_id uuid, id uuid PRIMARY KEY)")
    before = (tmp_path / "schema" / "finance.md").read_bytes()
    with pytest.raises(CommandError) as stale:
        call_command("schema_doc", "--out", out, "--no-svg", "--check")
    message = str(stale.value)
    assert "finance.md" in message and "README.md" in message
    assert "kernel.md" not in message
    assert (tmp_path / "schema" / "finance.md").read_bytes() == before  # --check wrote nothing


def test_check_names_missing_and_no_longer_generated_files(tmp_path: Path) -> None:
    out = tmp_path / "schema"
    call_command("schema_doc", "--out", str(out), "--no-svg")
    (out / "config.md").unlink()
    (out / "old_schema.md").write_text("gone")
    with pytest.raises(CommandError, match=r"config\.md.*old_schema\.md \(no longer generated\)"):
        call_command("schema_doc", "--out", str(out), "--no-svg", "--check")
    call_command("schema_doc", "--out", str(out), "--no-svg")
    assert (out / "config.md").exists() and not (out / "old_schema.md").exists()


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_svg_is_deterministic_and_compared_only_across_the_same_graphviz(tmp_path: Path) -> None:
    documents = generate(connections["default"])
    svg = documents["er-diagram.svg"]
    assert svg.lstrip().startswith(b"<?xml") and b"<!-- Generated by graphviz version" in svg
    assert b"finance.journal_entries" in svg
    assert generate(connections["default"])["er-diagram.svg"] == svg

    for name, content in documents.items():
        (tmp_path / name).write_bytes(content)
    assert compare(documents, tmp_path).up_to_date
    other = re.sub(rb"graphviz version \S+", b"graphviz version 0.0.1", svg).replace(b"<g", b"<g ")
    (tmp_path / "er-diagram.svg").write_bytes(other)
    comparison = compare(documents, tmp_path)
    assert comparison.up_to_date and "not compared" in comparison.notes[0]
    (tmp_path / "er-diagram.svg").write_bytes(svg.replace(b"<g", b"<g "))  # same version
    assert compare(documents, tmp_path).stale == ("er-diagram.svg",)


def test_without_graphviz_the_index_says_so() -> None:
    documents = generate(connections["default"], svg=False)
    assert "er-diagram.svg" not in documents
    assert "no SVG: `dot` was not installed" in _text(documents, "README.md")
    assert _text(documents, "er-diagram.dot").startswith("digraph schema {")
