"""YAML read with limits, for files that come from outside the project.

`yaml.safe_load` never builds Python objects from tags, but it still trusts the document's size:
a "billion laughs" (nested aliases, each repeating the one before ten times) composes in a few
bytes into a graph whose expansion takes minutes and all the memory there is. Here a document is
composed with counters (depth, aliases), then its node graph is walked once, memoised, to know the
size it would expand to, its tags and its cycles, all before anything is constructed. Whatever
breaks a limit fails fast with the file, the line and the field (the path of keys) it is at.

Scalars keep the text they are written with where YAML would turn them into something else than
a number, a boolean or null: a date (`2023-08-01`) stays the string `"2023-08-01"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kg.errors import SourceError

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    _CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge")
)


@dataclass(frozen=True)
class Limits:
    """What one YAML document may be. Defaults fit a model record with room to spare."""

    max_bytes: int = 2_000_000
    max_depth: int = 64
    max_aliases: int = 1_000
    max_nodes: int = 200_000  # nodes after expanding every alias and merge


DEFAULT_LIMITS = Limits()


class _Refused(Exception):
    def __init__(self, message: str, node_or_mark: Any, field: str | None = None) -> None:
        super().__init__(message)
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        self.line = mark.line + 1 if mark is not None else None
        self.field = field


class _Loader(yaml.SafeLoader):
    """SafeLoader composing under limits; dates are kept as written."""

    def __init__(self, stream: str, limits: Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.aliases = 0

    def _next_event(self) -> Event:
        # types-PyYAML leaves Parser.peek_event unannotated; it returns the next Event.
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        return event

    def compose_node(self, parent: Node | None, index: Node | int | None) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _Refused(
                    f"more than {self.limits.max_aliases} aliases", self._next_event().start_mark
                )
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise _Refused(
                    f"nested deeper than {self.limits.max_depth} levels",
                    self._next_event().start_mark,
                )
            # types-PyYAML says `index: int`; PyYAML passes a mapping's key node, or None
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1


def _timestamp_as_written(loader: yaml.SafeLoader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(_CORE + "timestamp", _timestamp_as_written)


def _check(root: Node, limits: Limits) -> None:
    """Expanded size, tags and cycles of the composed graph, each node visited once."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def visit(node: Node, path: str) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused("a recursive alias (the node contains itself)", node, path or None)
        if node.tag not in ALLOWED_TAGS:
            raise _Refused(
                f"the tag '{node.tag}' is not allowed (only plain YAML data is read; "
                "tags that construct objects are refused)",
                node,
                path or None,
            )
        active.add(key)
        size = 1
        if isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                size += visit(item, f"{path}[{i}]")
                if size > limits.max_nodes:
                    break
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                name = k.value if isinstance(k, ScalarNode) else "?"
                size += visit(k, path) + visit(v, f"{path}.{name}" if path else str(name))
                if size > limits.max_nodes:
                    break
        active.discard(key)
        if size > limits.max_nodes:
            raise _Refused(
                f"expands to more than {limits.max_nodes} nodes (aliases repeat content: "
                "a 'billion laughs' document?)",
                node,
                path or None,
            )
        sizes[key] = size
        return size

    visit(root, "")


def loads(text: str, file: str | Path, *, limits: Limits = DEFAULT_LIMITS, line: int = 0) -> Any:
    """Parse one YAML document from `text`; `file` (and `line`, the line the text starts after)
    name it in errors. Raises SourceError."""
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise SourceError(file, f"larger than {limits.max_bytes} bytes: not read")
    loader = _Loader(text, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(node, limits)
        return loader.construct_document(node)
    except _Refused as exc:
        raise SourceError(
            file,
            f"YAML refused: {exc}",
            line=exc.line + line if exc.line else None,
            field=exc.field,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(
            file,
            f"malformed YAML: {problem}",
            line=(mark.line + 1 + line) if mark is not None else None,
        ) from None
    except RecursionError:
        raise SourceError(file, "YAML refused: nested too deeply") from None
    finally:
        loader.dispose()


def load_file(path: Path, *, limits: Limits = DEFAULT_LIMITS, display: str | None = None) -> Any:
    """Read and parse a YAML file under `limits`; errors name `display` (default: the name)."""
    name = display or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(name, f"cannot be read ({exc.strerror})") from None
    if size > limits.max_bytes:
        raise SourceError(name, f"larger than {limits.max_bytes} bytes: not read")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(name, "not valid UTF-8 text") from None
    return loads(text, name, limits=limits)
