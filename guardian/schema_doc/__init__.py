"""Living schema documentation: the schema document rendered from the live catalog.

:func:`render` is pure (inputs in, file contents out) and deterministic: the same database
gives byte-identical files. ``manage.py schema_doc`` gathers the inputs and writes or checks.
"""

from __future__ import annotations

from guardian.schema_doc.diagrams import graphviz, render_svg
from guardian.schema_doc.index_page import DOT_NAME, SVG_NAME, render_index
from guardian.schema_doc.inputs import DocInputs, FindingLike, Findings
from guardian.schema_doc.schema_page import render_schema_page

__all__ = ["DocInputs", "FindingLike", "Findings", "render"]


def render(inputs: DocInputs, *, svg: bool = True) -> dict[str, bytes]:
    """File name (relative to the output directory) -> content.

    ``svg``: also render the Graphviz SVG (skipped, and the index says so, without ``dot``).
    """
    source = graphviz(inputs.catalog)
    rendered = render_svg(source) if svg else None
    files = {
        "README.md": render_index(inputs, svg=rendered is not None).encode(),
        DOT_NAME: source.encode(),
    }
    for schema in inputs.catalog.schemas:
        files[f"{schema.name}.md"] = render_schema_page(schema.name, inputs).encode()
    if rendered is not None:
        files[SVG_NAME] = rendered
    return dict(sorted(files.items()))
