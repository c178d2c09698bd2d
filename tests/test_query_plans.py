"""Query shapes the embedded store plans badly, kept out of every `.rq` of the project.

**A required pattern after an OPTIONAL in the same group.** `{ A OPTIONAL { B } C }` is, in
SPARQL's algebra, `Join(LeftJoin(A, B), C)`. Oxigraph 0.5 evaluates such a join by running the
left join once for every solution of `C`, so the cost grows with the product of the two: on
paper-shaped data `who-says` took 47 s at 200 models and 197 s at 800 (wall time, loaded
machine), against 1.9 s and 12 s with its `?c skos:notation ?term` written before the OPTIONALs
(the same rows; `benchmarks/bench_library.py` measures every question at several N). Written
`{ A C OPTIONAL { B } }` it is `LeftJoin(Join(A, C), B)`, which is evaluated once. The two are
the same query whenever `C` shares no variable with `B` that `A` does not bind, which is the
case in every query this test has caught; the compliance suite's golden answers hold each
rewrite to the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.vocab.namespaces import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
QUERY_FILES = sorted([*(ROOT / "queries").rglob("*.rq"), *(ROOT / "kg").rglob("*.rq")])


def _nodes(node: object) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _nodes(value)


def _under_extend_and_filter(node: object) -> object:
    # BIND and FILTER between the OPTIONAL and the pattern do not change the join
    while isinstance(node, CompValue) and node.name in ("Extend", "Filter"):
        node = node.p
    return node


def required_after_optional(text: str) -> list[str]:
    """The required patterns (triples or GRAPH blocks) joined after an OPTIONAL of their group."""
    # the graph's prefixes first, for files that leave them to the caller (the query page's);
    # a file's own PREFIX lines come after and win
    prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
    algebra = translateQuery(parseQuery(prologue + text)).algebra
    found = []
    for node in _nodes(algebra):
        if node.name != "Join":
            continue
        left = _under_extend_and_filter(node.p1)
        if isinstance(left, CompValue) and left.name == "LeftJoin":
            right = node.p2
            if isinstance(right, CompValue) and right.name in ("BGP", "Graph"):
                triples = right.get("triples") or []
                found.append(" ".join(t.n3() for t in triples[0]) if triples else right.name)
    return found


def test_the_rule_finds_a_pattern_after_an_optional_and_passes_the_rewrite() -> None:
    before = "SELECT * WHERE { ?a <p> ?b OPTIONAL { ?a <q> ?x } BIND(1 AS ?one) ?b <r> ?c }"
    after = "SELECT * WHERE { ?a <p> ?b . ?b <r> ?c OPTIONAL { ?a <q> ?x } BIND(1 AS ?one) }"
    nested = "SELECT * WHERE { ?a <p> ?b OPTIONAL { ?a <q> ?x OPTIONAL { ?x <s> ?y } ?x <t> ?z } }"
    assert required_after_optional(before) == ["?b <r> ?c"]
    assert required_after_optional(after) == []
    assert required_after_optional(nested) == ["?x <t> ?z"]


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_required_pattern_follows_an_optional(path: Path) -> None:
    found = required_after_optional(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(ROOT)}: write these before the OPTIONALs of their group "
        f"(see this test's docstring): {found}"
    )
