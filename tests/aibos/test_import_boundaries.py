"""Import rules the layout depends on, read from the source with ``ast`` (nothing is imported).

- kernel never imports finance (or config): the control plane knows no data plane. The project
  layer (``aibos``) wires apps together: demo seeding, project-wide commands and checks.
- No import loop inside kernel, not even through an import deferred into a function (models are
  the bottom layer: selectors and services import them, never the other way round).
- Migrations never import live SQL: a migration deploys a frozen copy, so what it runs does not
  change when the code does. They may import the versioned operation classes that
  ``makemigrations`` writes into them, and the role procedure that also runs after every migrate.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Module (or module prefix) -> why a migration may import it.
MIGRATION_IMPORTS = {
    "__future__": "language",
    "uuid": "field defaults",
    "django": "the migration framework",
    "pgtrigger.compiler": "versioned trigger operation classes",
    "pgtrigger.migrations": "versioned trigger operation classes",
    "aibos.db.governance": "versioned governance 'constraints' (their SQL inputs are frozen kwargs)",
    "aibos.db.triggers": "GuardTriggerSql, a versioned template (function bodies are frozen kwargs)",
    "aibos.db.bootstrap.ensure_roles": "a procedure, not SQL; also runs after every migrate",
}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in the file, ``from a import b`` as ``a.b``."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(ROOT).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_kernel_never_imports_finance_or_config() -> None:
    sources = sorted((ROOT / "kernel").rglob("*.py"))
    assert len(sources) > 10
    offending = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sources
        for line, name in _imports(path)
        if _within(name, "finance") or _within(name, "config")
    ]
    assert offending == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_loop_inside_kernel() -> None:
    sources = {_module_name(p): p for p in (ROOT / "kernel").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        targets = set()
        for _, name in _imports(path):
            # `from kernel import selectors` names kernel.selectors; `from x import Y` names x.Y.
            while name and name not in sources:
                name = name.rpartition(".")[0]
            if name and name != module and name != "kernel":
                targets.add(name)
        graph[module] = targets

    loops = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                loops.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert graph["kernel.models"] == set(), graph["kernel.models"]
    assert loops == []


def test_migrations_import_no_live_code() -> None:
    sources = sorted(ROOT.glob("*/migrations/0*.py"))
    assert len(sources) >= 10
    offending = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sources
        for line, name in _imports(path)
        if not any(_within(name, allowed) for allowed in MIGRATION_IMPORTS)
    ]
    assert offending == []


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """The walker sees plain, from- and function-level imports."""
    module = tmp_path / "m.py"
    module.write_text(
        "import finance.models\nfrom finance import demo\n"
        "def f():\n    from finance.services import journal_post\n"
    )
    names = [name for _, name in _imports(module)]
    assert names == ["finance.models", "finance.demo", "finance.services.journal_post"]
