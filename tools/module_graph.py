"""Figures of the package's shape, read from the code (issue 11's measures): modules, import
edges between them, imports of private names across modules, reach-ins to private attributes of
other objects, the longest functions and the longest files.

    python tools/module_graph.py                 # the working tree's kg/
    python tools/module_graph.py --rev 0123abc   # kg/ as it was at a commit (git archive)
    python tools/module_graph.py --top 5

A private name is one starting with `_` (dunders excluded). "Private imports across modules"
counts the names in `from kg.x import _name` (the rule tests/test_architecture.py enforces);
"private reach-ins" counts attribute accesses `obj._name` where obj is not `self` or `cls` (a
looser sign of one object using another's insides; a module may have good reasons). Function
length is from the `def` line to the last line of its body, decorators excluded, nested
functions counted in their own right (and within their parent). File length is lines of text.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# public despite the "_": namedtuple's API, and os._exit (how a forked child leaves)
NT = {"_replace", "_asdict", "_fields", "_make", "_exit"}


@dataclass
class Figures:
    modules: int = 0
    packages: int = 0  # of the modules, __init__.py files
    edges: int = 0  # distinct (module -> kg module) imports
    private_imports: list[str] = field(default_factory=list)
    reach_ins: list[str] = field(default_factory=list)
    functions: list[tuple[int, str]] = field(default_factory=list)  # (lines, where)
    files: list[tuple[int, str]] = field(default_factory=list)


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def measure(package: Path) -> Figures:
    fig = Figures()
    paths = sorted(package.rglob("*.py"))
    names = {module_name(p, package) for p in paths}
    edges: set[tuple[str, str]] = set()
    for path in paths:
        rel = path.relative_to(package.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        here = module_name(path, package)
        fig.modules += 1
        fig.packages += path.name == "__init__.py"
        fig.files.append((len(text.splitlines()), rel))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges.add((here, sub if sub in names else node.module))
                    if alias.name.startswith("_") and not alias.name.endswith("__"):
                        fig.private_imports.append(f"{rel}:{node.lineno} {sub}")
            elif isinstance(node, ast.Import):
                edges.update((here, a.name) for a in node.names if a.name.startswith("kg"))
            elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in NT:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    fig.reach_ins.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                end = node.end_lineno or node.lineno
                fig.functions.append((end - node.lineno + 1, f"{rel}:{node.lineno} {node.name}"))
    fig.edges = len({(a, b) for a, b in edges if a != b})
    fig.functions.sort(key=lambda x: (-x[0], x[1]))
    fig.files.sort(key=lambda x: (-x[0], x[1]))
    return fig


def _private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def at_revision(rev: str, into: Path) -> Path:
    """kg/ as it was at git revision `rev`, extracted under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "kg"],
        check=True,
        capture_output=True,
    ).stdout
    tar = into / "kg.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "kg"


def report(fig: Figures, top: int) -> str:
    lines = [
        f"modules: {fig.modules} ({fig.packages} of them __init__.py)",
        f"import edges between kg modules: {fig.edges}",
        f"private imports across modules: {len(fig.private_imports)}",
        *(f"  {x}" for x in fig.private_imports),
        f"private reach-ins (obj._name, obj not self/cls): {len(fig.reach_ins)}",
        *(f"  {x}" for x in fig.reach_ins[:top]),
        f"longest functions (lines): {', '.join(f'{n} {w}' for n, w in fig.functions[:top])}",
        f"longest files (lines): {', '.join(f'{n} {w}' for n, w in fig.files[:top])}",
        f"functions over 100 lines: {sum(1 for n, _ in fig.functions if n > 100)}; "
        f"over 60: {sum(1 for n, _ in fig.functions if n > 60)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", help="measure kg/ at this git revision instead of the tree")
    parser.add_argument("--top", type=int, default=3, help="how many longest to list")
    args = parser.parse_args(argv)
    if args.rev:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"kg/ at {args.rev}")
            print(report(measure(at_revision(args.rev, Path(tmp))), args.top))
    else:
        print(report(measure(ROOT / "kg"), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
