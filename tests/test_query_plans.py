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

**An OPTIONAL of more than one triple pattern in a question about one model.** Oxigraph 0.5
extends each row by looking the OPTIONAL up from it only when the OPTIONAL is one triple pattern
(nested OPTIONALs, FILTERs and BINDs allowed); any other OPTIONAL (two patterns, a sub-select, a
UNION) is evaluated once over the whole store and joined by hash, so a question about one model
costs as much as one about all of them. A path of two steps (`p/q`) counted as such too in
`table3` (0.078 s against 0.002 s nested, at 1,000 models). At 10,000 paper-shaped models
`explain` took 11.9 s and `pages/model-sources` 5.0 s; written with one pattern per OPTIONAL
(nested where a second step depends on the first) 0.010 s and 0.002 s, as at 1,000. Every
query that takes a `model` parameter is held to it, except those listed in `WIDE_OPTIONALS`
with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib.paths import SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.store.queries import parse_query_file
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


def _algebra(text: str) -> CompValue:
    # the graph's prefixes first, for files that leave them to the caller; a file's own win
    prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
    return translateQuery(parseQuery(prologue + text)).algebra


def _one_pattern(node: object) -> bool:
    """Whether an OPTIONAL's pattern is one triple pattern (in a GRAPH block or not), with
    OPTIONALs, FILTERs and BINDs around it: the shape the store looks up row by row."""
    node = _under_extend_and_filter(node)
    if not isinstance(node, CompValue):
        return False
    if node.name == "LeftJoin":
        return _one_pattern(node.p1)
    if node.name == "Graph":
        return _one_pattern(node.p)
    if node.name == "BGP":
        triples = node.get("triples") or []
        return len(triples) == 1 and not isinstance(triples[0][1], SequencePath)
    return False


def wide_optionals(text: str) -> list[str]:
    """The OPTIONALs of a query that are not one triple pattern, as the algebra names them."""
    found = []
    for node in _nodes(_algebra(text)):
        if node.name == "LeftJoin" and not _one_pattern(node.p2):
            bgp = next((n for n in _nodes(node.p2) if n.name == "BGP" and n.get("triples")), None)
            first = bgp["triples"][0] if bgp is not None else ()
            found.append(" ".join(str(getattr(t, "n3", lambda t=t: t)()) for t in first) or "?")
    return found


# Questions about one model that keep an OPTIONAL of several patterns, and why.
WIDE_OPTIONALS = {
    "source-disagreements": "the model is a name matched as text against every source's names "
    "(who-says looks it up instead); the store cannot start from it, so the question costs the "
    "same with or without it",
}


def test_the_one_pattern_rule_passes_nested_lookups_and_finds_wide_ones() -> None:
    nested = (
        "SELECT * WHERE { ?a <p> ?b OPTIONAL { ?b <q> ?c OPTIONAL { ?c <r> ?d } FILTER(?c != 1) }"
        " OPTIONAL { GRAPH ?g { ?a <s> ?e } } }"
    )
    assert wide_optionals(nested) == []
    assert wide_optionals("SELECT * WHERE { ?a <p> ?b OPTIONAL { ?b <q> ?c . ?c <r> ?d } }") == [
        "?b <q> ?c"
    ]
    assert len(wide_optionals("SELECT * WHERE { ?a <p> ?b OPTIONAL { ?b <q>/<r> ?c } }")) == 1
    sub = (
        "SELECT * WHERE { ?a <p> ?b"
        " OPTIONAL { SELECT ?b (COUNT(*) AS ?n) { ?b <q> ?c } GROUP BY ?b } }"
    )
    assert len(wide_optionals(sub)) == 1


ONE_MODEL = [
    p
    for p in QUERY_FILES
    if p.suffix == ".rq"
    and any(x.name == "model" for x in parse_query_file(p, require_header=False).parameters)
]


@pytest.mark.parametrize("path", ONE_MODEL, ids=lambda p: str(p.relative_to(ROOT)))
def test_questions_about_one_model_look_optionals_up_row_by_row(path: Path) -> None:
    found = wide_optionals(path.read_text(encoding="utf-8"))
    if path.stem in WIDE_OPTIONALS:
        assert found, f"{path.stem} is listed in WIDE_OPTIONALS but has no wide OPTIONAL now"
        return
    assert not found, (
        f"{path.relative_to(ROOT)}: write each OPTIONAL as one triple pattern, nesting the next "
        f"step inside it (see this test's docstring): {found}"
    )
