"""Derivation: the CONSTRUCT rules of queries/derive/, each into its own named graph.

Rules run in file-name order (`10-…`, `20-…`) against the store, so a rule sees what earlier
rules derived. A rule's header says its `scope`: `model` (the default) when each of its
conclusions rests on one model's statements and the shared ones (ontology, licenses,
frameworks), so that it may run on a few models at a time (a large build derives in batches,
`kg.checks.batches`); `dataset` when it joins several models (the lineage rules), so that it
runs once on the whole store, after the model rules. Each rule's output goes to
`{base}graph/derived/{rule}`, described in the metadata graph (title, description, the rule
file, the graphs it was derived from). Derived statements are never written into the paper's
graphs, and derivation never validates: that is `kg validate`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import QueryError
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import QueryFile, parse_query_file, queries_dir
from kg.vocab.namespaces import DCTERMS, PROV, RDF, RDFS, Base, gao

_ORDER = re.compile(r"^(\d+)-([a-z0-9-]+)$")


# The openness definitions (queries/definitions/<name>.rq) run at this point of the numbered
# order: after the license and level rules they use, before the rules that read their results.
DEFINITIONS_AT = 80
_DEFINITION = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


SCOPES = ("model", "dataset")


@dataclass(frozen=True)
class Rule:
    query: QueryFile
    slug: str
    graph: tuple[str, ...] = ()  # the parts of its graph under {base}graph/derived/

    @property
    def graph_parts(self) -> tuple[str, ...]:
        return self.graph or (self.slug,)

    @property
    def scope(self) -> str:
        """`model` or `dataset` (the header's `scope`, `model` if it has none)."""
        return str(self.query.extra.get("scope", "model"))


def _construct(path: Path, name: str) -> QueryFile:
    qf = parse_query_file(path, name)
    if not re.search(r"^\s*CONSTRUCT\b", qf.text, re.M | re.I):
        raise QueryError(f"{path}: a derivation rule must be a CONSTRUCT query")
    scope = qf.extra.get("scope", "model")
    if scope not in SCOPES:
        raise QueryError(
            f"{path}: 'scope' is {scope!r}; use 'model' (each conclusion rests on one model's "
            "statements) or 'dataset' (the rule joins several models)"
        )
    return qf


def rules() -> list[Rule]:
    """The derivation rules in the order they run. A badly named or broken file is an error."""
    folder = resource_dir("queries") / "derive"
    ordered: list[tuple[int, str, Rule]] = []
    for path in sorted(folder.glob("*.rq")):
        m = _ORDER.match(path.stem)
        if not m:
            raise QueryError(
                f"{path}: derivation rules are named NN-name.rq (for example "
                "10-license-score.rq), so that their order is explicit"
            )
        rule = Rule(_construct(path, f"derive/{path.stem}"), m.group(2))
        ordered.append((int(m.group(1)), path.stem, rule))
    for path in sorted((resource_dir("queries") / "definitions").glob("*.rq")):
        if not _DEFINITION.match(path.stem):
            raise QueryError(
                f"{path}: a definition's rule file is named after the definition in "
                "kebab-case (for example osaid-1-0.rq)"
            )
        qf = _construct(path, f"definitions/{path.stem}")
        rule = Rule(qf, path.stem, ("definitions", path.stem))
        ordered.append((DEFINITIONS_AT, path.stem, rule))
    return [rule for _, _, rule in sorted(ordered, key=lambda t: (t[0], t[1]))]


def derive(store: OxigraphStore, base: Base, sources: list[ox.NamedNode]) -> dict[str, int]:
    """Run every rule, add its output and its description (metadata graph) to the store, and
    return the number of statements each rule derived (graph IRI -> count)."""
    run_rules(store, base)
    return describe(store, base, sources)


def run_rules(
    store: OxigraphStore,
    base: Base,
    scope: str | None = None,
    also: Callable[[ox.Quad], None] | None = None,
) -> None:
    """Run the rules (those of `scope` only, if given) in order, each into its own graph, and
    hand every derived quad to `also` too, if given. Only one rule's output is held in Python:
    each streams into the store as its query yields it."""
    for rule in rules():
        if scope is not None and rule.scope != scope:
            continue
        graph = base.graph("derived", *rule.graph_parts)
        result = store.run(rule.query)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError(f"{rule.query.path}: expected CONSTRUCT triples")
        # streamed into the store as the query yields them: the query reads a snapshot taken
        # when it started, so it never sees its own output, and no rule's output is held in
        # Python (rule 85 derives about 60 statements per model: 6 M at 100,000 models)
        made = (ox.Quad(t.subject, t.predicate, t.object, graph) for t in result)
        store.add_quads(made if also is None else _tee(made, also))


def _tee(quads: Iterator[ox.Quad], also: Callable[[ox.Quad], None]) -> Iterator[ox.Quad]:
    for q in quads:
        also(q)
        yield q


def describe(store: OxigraphStore, base: Base, sources: list[ox.NamedNode]) -> dict[str, int]:
    """Describe every rule's derived graph in the metadata graph, with the number of statements
    the store holds in it (however many batches derived them), and return those numbers (graph
    IRI -> count)."""
    count = parse_query_file(queries_dir() / "internal" / "graph-count.rq")
    counts: dict[str, int] = {}
    quads: list[ox.Quad] = []
    for rule in rules():
        graph = base.graph("derived", *rule.graph_parts)
        counts[graph.value] = int(store.select(count, {"graph": graph}).rows[0]["triples"].value)
        quads += described(rule, base, counts[graph.value], sources)
    store.add_quads(quads)
    return counts


def described(rule: Rule, base: Base, count: int, sources: list[ox.NamedNode]) -> list[ox.Quad]:
    """The metadata graph's description of a rule's derived graph (title, description, the rule
    file, the graphs it was derived from, the number of statements)."""
    graph = base.graph("derived", *rule.graph_parts)
    rel = rule.query.path.relative_to(resource_dir("queries")).as_posix()
    title = ox.Literal(f"Derived: {rule.query.title}", language="en")
    pairs: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
        (ox.NamedNode(RDF + "type"), gao("StatementGraph")),
        (ox.NamedNode(DCTERMS + "title"), title),
        (ox.NamedNode(RDFS + "label"), title),
        (ox.NamedNode(DCTERMS + "description"), ox.Literal(rule.query.description, language="en")),
        (gao("derivationRule"), ox.Literal(f"queries/{rel}")),
        (
            ox.NamedNode(RDFS + "comment"),
            ox.Literal(f"{count} statements derived by the rule", language="en"),
        ),
        *((ox.NamedNode(PROV + "wasDerivedFrom"), g) for g in sources),
    ]
    meta = base.graph("metadata")
    return [ox.Quad(graph, p, o, meta) for p, o in pairs]
