"""The package's shape (docs/architecture.md): stage packages, no import cycles between modules,
no module reaching for another's private names, and stages that only look upstream."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kg"

# Each stage may import itself and the stages before it (docs/architecture.md), with the
# exceptions listed there.
STAGES = ["store", "vocab", "sources", "mapping", "checks", "release", "outputs", "serve", "cli"]
BASE = {"kg", "kg.errors", "kg.paths", "kg.fsutil", "kg.vocab.namespaces"}
ALLOWED = {
    # reports, figures and the overview's folded answers go into the release
    ("kg.release.build", "kg.outputs.report_process"),
}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every `import kg...` / `from kg... import ...`, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg"):
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("kg")]
    return found


def _resolve(module: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """The kg modules an import statement depends on (a name may itself be a submodule)."""
    targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
    return targets or [module]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_no_module_imports_private_names():
    bad = []
    for path in _modules().values():
        for module, names, line in _imports(path):
            bad += [
                f"{path.name}:{line} {module}.{n}"
                for n in names
                if n.startswith("_") and not n.endswith("__")
            ]
    assert not bad, bad


def test_module_imports_have_no_cycles():
    modules = _modules()
    graph = {
        name: {t for m, ns, _ in _imports(path) for t in _resolve(m, ns, modules) if t != name}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt in graph and not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if not state.get(name):
            visit(name)


def test_stages_only_import_upstream():
    modules = _modules()
    bad = []
    for name, path in modules.items():
        here = _stage(name)
        if here is None:
            continue
        for module, names, line in _imports(path):
            for target in _resolve(module, names, modules):
                there = _stage(target)
                if target in BASE or there is None or there == here:
                    continue
                if STAGES.index(there) > STAGES.index(here) and not any(
                    name == a and target.startswith(b) for a, b in ALLOWED
                ):
                    bad.append(f"{name} ({path.name}:{line}) imports downstream {target}")
    assert not bad, bad


def _module_graph():
    """tools/module_graph.py, the script that prints the figures of the package's shape."""
    import importlib.util

    path = PACKAGE.parent / "tools" / "module_graph.py"
    spec = importlib.util.spec_from_file_location("module_graph", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_figures_script_counts_what_it_says(tmp_path: Path):
    kg = tmp_path / "kg"
    (kg / "a").mkdir(parents=True)
    (kg / "__init__.py").write_text("")
    (kg / "a" / "__init__.py").write_text("")
    (kg / "a" / "one.py").write_text(
        "from kg.a.two import _hidden, shown\n"
        "import kg.a.two\n\n"
        "def long(x):\n" + "    x += 1\n" * 9 + "    return x._secret + self._fine\n"
    )
    (kg / "a" / "two.py").write_text("def _hidden():\n    pass\n\nshown = 1\n")
    fig = _module_graph().measure(kg)
    assert (fig.modules, fig.packages, fig.edges) == (4, 2, 1)
    assert fig.private_imports == ["kg/a/one.py:1 kg.a.two._hidden"]
    assert fig.reach_ins == ["kg/a/one.py:14 x._secret"]
    assert fig.functions[0] == (11, "kg/a/one.py:4 long")
    assert fig.files[0] == (14, "kg/a/one.py")


def test_no_module_reaches_into_another_object_s_private_attributes():
    """Stricter than the import rule: `obj._name` only on self or cls (namedtuple's public
    `_replace` and kin aside)."""
    assert _module_graph().measure(PACKAGE).reach_ins == []
