"""Gather the document's inputs from a live database and compare documents with a directory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db.backends.base.base import BaseDatabaseWrapper

from aibos.db.roles import SCHEMAS
from guardian.catalog import Catalog, read_catalog
from guardian.schema_doc import render
from guardian.schema_doc.diagrams import SVG_VERSION, dot_version
from guardian.schema_doc.index_page import SVG_NAME
from guardian.schema_doc.inputs import (
    DocInputs,
    Findings,
    model_purposes,
    read_migrations,
    read_row_counts,
)

FindingsSource = Callable[[Catalog], Findings]


def no_findings(catalog: Catalog) -> Findings:
    return {}


def generate(
    connection: BaseDatabaseWrapper,
    *,
    findings_source: FindingsSource = no_findings,
    svg: bool = True,
) -> dict[str, bytes]:
    """The documents of the platform schemas as ``connection`` sees them."""
    catalog = read_catalog(connection, SCHEMAS)
    row_counts, counted_as = read_row_counts(connection, catalog.tables)
    inputs = DocInputs(
        catalog=catalog,
        row_counts=row_counts,
        findings=findings_source(catalog),
        migrations=read_migrations(connection),
        purposes=model_purposes(),
        counted_as=counted_as,
    )
    return render(inputs, svg=svg)


@dataclass(frozen=True)
class Comparison:
    stale: tuple[str, ...]  # differ from the fresh rendering, or missing
    extra: tuple[str, ...]  # in the directory, no longer generated
    notes: tuple[str, ...]  # what could not be compared, and why

    @property
    def up_to_date(self) -> bool:
        return not self.stale and not self.extra


def compare(documents: Mapping[str, bytes], out: Path) -> Comparison:
    stale, notes = [], []
    on_disk = {p.name for p in out.iterdir() if p.is_file()} if out.is_dir() else set()
    for name, content in documents.items():
        path = out / name
        if not path.is_file():
            stale.append(name)
        elif path.read_bytes() != content:
            if name == SVG_NAME and not _same_graphviz(path.read_bytes(), content):
                # Layout is a function of the Graphviz version too: a committed SVG from
                # another version cannot be compared byte for byte (the .dot source is).
                notes.append(f"{name}: rendered by another Graphviz version, not compared")
                continue
            stale.append(name)
    extra = on_disk - set(documents)
    if SVG_NAME in extra and dot_version() is None:
        extra.discard(SVG_NAME)
        notes.append(f"{SVG_NAME}: Graphviz `dot` is not installed here, not compared")
    return Comparison(stale=tuple(sorted(stale)), extra=tuple(sorted(extra)), notes=tuple(notes))


def _same_graphviz(committed: bytes, fresh: bytes) -> bool:
    a, b = SVG_VERSION.search(committed), SVG_VERSION.search(fresh)
    return a is not None and b is not None and a.group(1) == b.group(1)


def write(documents: Mapping[str, bytes], out: Path) -> list[str]:
    """Write the documents, remove files of the directory no longer generated; the changed."""
    out.mkdir(parents=True, exist_ok=True)
    comparison = compare(documents, out)
    for name in comparison.stale:
        (out / name).write_bytes(documents[name])
    for name in comparison.extra:
        (out / name).unlink()
    return [*comparison.stale, *comparison.extra]
