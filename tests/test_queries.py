"""`kg query`: the named queries reproduce the paper's tables; parameters are bound safely."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import CRITERIA, Built, query_rows, run_kg
from kg.errors import QueryError
from kg.store.queries import library, parse_query_file, resolve


def read_source(sources_dir: Path, name: str) -> list[dict[str, str]]:
    with (sources_dir / "paper" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_table3_reproduces_the_source_cell_by_cell(built: Built, sources_dir: Path):
    source = read_source(sources_dir, "table3.csv")
    components = [c for c in source[0] if c != "model"]
    expected = []
    for row in source:
        for comp in components:
            cell = row[comp]
            if cell.startswith("?"):
                level, lic = "?", ""
            elif cell == "N/A":
                level, lic = "N/A", ""
            else:
                level, _, rest = cell.partition(" ")
                lic = rest.strip("()")
            expected.append(
                {"model": row["model"], "component": comp, "level": level, "license": lic}
            )
    rows = query_rows(built.out, "table3")
    assert list(rows[0]) == ["model", "component", "level", "license"]
    assert len(rows) == 480
    assert rows == expected


def test_table3_keeps_uncertain_cells(built: Built):
    proc = run_kg(
        "query",
        "tests/fixtures/queries/uncertain-cells.rq",
        "--format",
        "csv",
        "--out",
        str(built.out),
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    got = {
        (r["model"], r["component"]): (r["written"], sorted(r["candidates"].split())) for r in rows
    }
    assert got == {
        ("PolyCoder", "pretraining-data"): ("? (D3 or D4)", ["D3", "D4"]),
        ("BLOOM", "pretraining-data"): ("? (D3 or D4)", ["D3", "D4"]),
        ("LLaMA", "pretraining-data"): ("? (likely D5)", ["D5"]),
    }


def _size(text: str) -> str:
    if text == "N/A":
        return ""
    units = {"B": 10**9, "T": 10**12}
    return str(int(Decimal(text[:-1]) * units[text[-1]]))


def test_models_reproduce_table2(built: Built, sources_dir: Path):
    source = read_source(sources_dir, "table2.csv")
    rows = query_rows(built.out, "models")
    assert len(rows) == 40

    def metric(value: str) -> str:
        return "" if value == "N/A" else value.replace(",", "")

    for src, got in zip(source, rows, strict=True):
        month, year = src["release_date"].split("/")
        assert got["model"] == src["model"]
        assert got["developer"] == src["developer"]
        assert got["largest_size"] == _size(src["largest_size"])
        assert got["release_date"] == f"{year}-{month}"
        for m in (
            "chatbot_arena_elo",
            "google_scholar_citations",
            "huggingface_downloads_last_month",
        ):
            assert got[m] == metric(src[m]), (src["model"], m)


def test_models_developer_kinds(built: Built):
    rows = {r["model"]: r for r in query_rows(built.out, "models")}
    assert rows["Falcon"]["developer_kind"] == "government institute"
    assert rows["Megatron-Turing"]["developer"] == "Microsoft, NVIDIA"
    assert rows["Megatron-Turing"]["developer_kind"] == "company"
    assert rows["BLOOM"]["developer_kind"] == ""  # unknown stays unknown


def test_licenses_reproduce_table1(built: Built, sources_dir: Path):
    source = read_source(sources_dir, "table1.csv")
    rows = query_rows(built.out, "licenses")
    assert len(rows) == 12
    yn = {"Y": "true", "N": "false"}
    for src, got in zip(source, rows, strict=True):
        assert got["license"] == src["license"]
        for c in CRITERIA:
            assert got[c] == yn[src[c]], (src["license"], c)
        score, _, category = src["final_score"].partition(" ")
        assert got["score"] == score
        assert got["restrictiveness"] == category.strip("()").lower()
        assert got["code_level"] == src["code_openness"]
        assert got["data_level"] == src["data_openness"]
        assert got["note"] == src["footnotes"]


def test_parameter_filters(built: Built):
    rows = query_rows(built.out, "table3", "--param", "model=LLaMA-2")
    assert len(rows) == 12
    assert {r["model"] for r in rows} == {"LLaMA-2"}
    assert rows[-2] == {
        "model": "LLaMA-2",
        "component": "inference-code",
        "level": "C3",
        "license": "LLaMA-2",
    }
    rows = query_rows(built.out, "table3", "-p", "component=weights")
    assert len(rows) == 40


def test_parameter_values_are_never_sparql(built: Built):
    """A value that would break out of a pasted string is just a name that matches nothing
    (and `kg query` says so), and the graph is as it was."""
    evil = 'GPT-2" } } ; DROP ALL ; SELECT * { ?s ?p ?o #'
    proc = run_kg("query", "table3", "--param", f"model={evil}", "--out", str(built.out))
    assert proc.returncode == 2 and f"parameter model={evil!r} matches nothing" in proc.stderr
    assert query_rows(built.out, "table3", "--param", "model=GPT-2")


def test_unknown_parameter(built: Built):
    proc = run_kg("query", "table3", "-p", "modle=GPT-2", "--out", str(built.out))
    assert proc.returncode == 2
    assert "unknown parameter(s) modle" in proc.stderr
    assert "model" in proc.stderr


def test_json_format_is_sparql_results(built: Built):
    proc = run_kg("query", "licenses", "-f", "json", "--out", str(built.out))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["head"]["vars"][:2] == ["license", "research"]
    assert len(doc["results"]["bindings"]) == 12


def test_table_format(built: Built):
    proc = run_kg("query", "models", "--out", str(built.out))
    assert proc.returncode == 0
    assert "GPT-2" in proc.stdout and "40 row(s)" in proc.stdout


def test_list(built: Built):
    proc = run_kg("query", "--list")
    assert proc.returncode == 0
    for name in ("table3", "models", "licenses"):
        assert name in proc.stdout
    assert "internal" not in proc.stdout


def test_unknown_query_name():
    proc = run_kg("query", "tabel3")
    assert proc.returncode == 2
    assert "no query named 'tabel3'" in proc.stderr


def test_query_file_errors(tmp_path: Path, built: Built):
    no_header = tmp_path / "bare.rq"
    no_header.write_text("SELECT * WHERE { ?s ?p ?o }\n")
    # the library's own files need a header (a user's file need not: test_a_plain_sparql_file...)
    with pytest.raises(QueryError, match=r"bare\.rq.*header"):
        parse_query_file(no_header)
    bare_broken = tmp_path / "bare-broken.rq"
    bare_broken.write_text("SELECT * WHERE { ?s ?p }\n")
    proc = run_kg("query", str(bare_broken), "--out", str(built.out))
    assert proc.returncode == 2
    assert "bare-broken.rq" in proc.stderr and "syntax error" in proc.stderr.lower()

    bad = tmp_path / "broken.rq"
    bad.write_text("# title: t\n# description: d\nSELECT * WHERE { ?s ?p }\n")
    proc = run_kg("query", str(bad), "--out", str(built.out))
    assert proc.returncode == 2
    assert "broken.rq" in proc.stderr and "syntax error" in proc.stderr.lower()


def test_typed_parameters(tmp_path: Path):
    path = tmp_path / "typed.rq"
    path.write_text(
        "# title: t\n# description: d\n# parameters:\n"
        "#   n: {type: integer, required: true, description: a number}\n"
        "#   thing: {type: iri, description: an IRI}\n"
        "SELECT ?n ?thing WHERE { BIND(1 AS ?x) }\n"
    )
    qf = parse_query_file(path)
    prefixes = {"gao": "https://w3id.org/genai-openness/ontology#"}
    with pytest.raises(QueryError, match="required"):
        qf.bindings({}, prefixes)
    with pytest.raises(QueryError, match="whole number"):
        qf.bindings({"n": "1 } ; DROP ALL"}, prefixes)
    with pytest.raises(QueryError, match="not an IRI"):
        qf.bindings({"n": "1", "thing": "<x> } ; DROP"}, prefixes)
    terms = qf.bindings({"n": "3", "thing": "gao:C1"}, prefixes)
    assert terms["thing"].value == "https://w3id.org/genai-openness/ontology#C1"
    bound = qf.with_values(terms)  # the required one opens the group, the optional one trails
    assert 'WHERE {\n  VALUES (?n) { ("3"^^<http://www.w3.org/2001/XMLSchema#integer>) }\n' in bound
    assert bound.endswith("VALUES (?thing) { (<https://w3id.org/genai-openness/ontology#C1>) }\n")


def test_declared_parameter_must_be_used(tmp_path: Path):
    path = tmp_path / "unused.rq"
    path.write_text("# title: t\n# description: d\n# parameters:\n#   x: an x\nSELECT * {}\n")
    with pytest.raises(QueryError, match="not used"):
        parse_query_file(path)


def test_update_tables_fill_empty_values_blocks(tmp_path: Path):
    """Updates (.ru) bind tables of terms in empty inline VALUES blocks, never pasted strings."""
    import pyoxigraph as ox

    path = tmp_path / "move.ru"
    path.write_text(
        "# title: t\n# description: d\n# parameters:\n#   a: {type: iri}\n#   b: {type: iri}\n"
        "PREFIX ex: <http://example.org/>\n"
        "# a comment with VALUES ?a {} is left alone\n"
        "INSERT { GRAPH ?b { ?s ?p ?o } } WHERE { VALUES (?a ?b) {} GRAPH ?a { ?s ?p ?o } } ;\n"
        "DELETE { GRAPH ?a { ?s ?p ?o } } WHERE { values ?a { } GRAPH ?a { ?s ?p ?o } }\n"
    )
    qf = parse_query_file(path)
    a, b = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/b")
    text = qf.with_tables({("a", "b"): [(a, b)], ("a",): [(a,)]})
    assert "VALUES (?a ?b) { (<http://example.org/a> <http://example.org/b>) }" in text
    assert "VALUES ?a { <http://example.org/a> }" in text
    assert "# a comment with VALUES ?a {} is left alone" in text
    store = ox.Store()
    store.add(ox.Quad(a, a, ox.Literal('x" } ; DROP ALL'), a))
    store.update(text)
    assert [q.graph_name for q in store] == [b]
    with pytest.raises(QueryError, match="no rows given"):
        qf.with_tables({("a", "b"): [(a, b)]})
    with pytest.raises(QueryError, match="no empty VALUES block"):
        qf.with_tables({("a", "b"): [], ("a",): [], ("c",): []})
    with pytest.raises(QueryError, match="IRIs or literals"):
        qf.with_tables({("a", "b"): [(a, "<x> } ; DROP ALL #")], ("a",): []})


def test_push_swap_update():
    """queries/internal/push-swap.ru on an in-memory store: the previous release's graphs are
    emptied, each staging graph lands on its target, the staging graphs are emptied."""
    import pyoxigraph as ox

    from kg.paths import resource_dir

    n = ox.NamedNode
    ex = "http://example.org/"
    subset = n("http://rdfs.org/ns/void#subset")
    record, old, kept, new = n(ex + "record"), n(ex + "old"), n(ex + "kept"), n(ex + "new")
    staged = {g: n(ex + "staging/" + g.value.rsplit("/", 1)[1]) for g in (kept, new, record)}
    store = ox.Store()
    for g in (old, kept):  # the previous release: two graphs and its record
        store.add(ox.Quad(n(ex + "s"), n(ex + "p"), ox.Literal("before"), g))
        store.add(ox.Quad(record, subset, g, record))
    for g in (kept, new):  # the new release, staged
        store.add(ox.Quad(n(ex + "s"), n(ex + "p"), ox.Literal("after"), staged[g]))
        store.add(ox.Quad(record, subset, g, staged[record]))
    qf = parse_query_file(resource_dir("queries") / "internal" / "push-swap.ru")
    store.update(
        qf.with_tables(
            {("record",): [(record,)], ("staging", "target"): [(s, t) for t, s in staged.items()]}
        )
    )
    after = {(q.graph_name.value.removeprefix(ex), str(q.object)) for q in store}
    assert after == {
        ("kept", '"after"'),
        ("new", '"after"'),
        ("record", f"<{ex}kept>"),
        ("record", f"<{ex}new>"),
    }
    counts = parse_query_file(resource_dir("queries") / "internal" / "push-counts.rq")
    rows = store.query(counts.with_tables({("graph",): [(old,), (new,)]}))
    assert {r["graph"].value: int(r["triples"].value) for r in rows} == {
        ex + "old": 0,
        ex + "new": 1,
    }


@pytest.mark.parametrize("qf", library(), ids=lambda q: q.name)
def test_library_headers_are_complete(qf):
    """Every named query documents its columns, and they are exactly what it returns."""
    import re

    assert qf.title and qf.description
    select = re.search(r"SELECT\s+(?:DISTINCT\s+)?(.*?)\s*WHERE", qf.text, re.S)
    assert select, qf.name
    projected = re.findall(r"(?<!\()\?(\w+)(?![^()]*\))|AS \?(\w+)\)", select.group(1))
    names = [a or b for a, b in projected]
    assert list(qf.columns) == names


def test_resolve_rejects_paths_by_name(tmp_path: Path, monkeypatch):
    """A library name never reaches a file outside the library, even one that exists."""
    from kg.store import queries

    library_dir = tmp_path / "queries"
    library_dir.mkdir()
    query = "# title: t\n# description: d\nSELECT * WHERE { ?s ?p ?o }\n"
    (library_dir / "inside.rq").write_text(query)
    (tmp_path / "outside.rq").write_text(query)
    monkeypatch.setattr(queries, "queries_dir", lambda: library_dir)
    assert resolve("inside").path == library_dir / "inside.rq"
    for name in ("../outside", "inside/../../outside", "/etc/passwd", "..\\outside"):
        with pytest.raises(QueryError, match="no query named"):
            resolve(name)


def test_a_plain_sparql_file_needs_no_header(built: Built, tmp_path: Path):
    """`kg query FILE.rq` runs any SPARQL file; a header is optional (library files need one)."""
    plain = tmp_path / "mine.rq"
    plain.write_text(
        "PREFIX gao: <https://w3id.org/genai-openness/ontology#>\n"
        "SELECT (COUNT(?m) AS ?models) WHERE {\n"
        "  GRAPH <https://w3id.org/genai-openness/graph/paper/table-2> { ?m a gao:AIModel }\n"
        "}\n"
    )
    assert query_rows(built.out, str(plain)) == [{"models": "40"}]
    broken = tmp_path / "broken.rq"
    broken.write_text("# title: [unclosed\nSELECT * WHERE { ?s ?p ?o } LIMIT 1\n")
    assert len(query_rows(built.out, str(broken))) == 1


def test_query_catalogue_is_in_sync():
    """docs/queries.md is generated from the query headers (run `kg docs` after editing)."""
    from conftest import ROOT
    from kg.outputs.docs import query_catalogue

    assert (ROOT / "docs" / "queries.md").read_text(encoding="utf-8") == query_catalogue()


def test_query_catalogue_names_every_query_file():
    """Every .rq and .ru file under queries/, in any folder, has its entry in docs/queries.md
    (found by walking the folder, not by asking the generator what it covers)."""
    from conftest import ROOT

    catalogue = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    files = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "queries").rglob("*")
        if p.suffix in (".rq", ".ru")
    )
    assert files
    missing = [f for f in files if f"File: `{f}`" not in catalogue]
    assert not missing, missing


def test_licenses_link_to_spdx_with_its_flags(built: Built):
    rows = {r["license"]: r for r in query_rows(built.out, "licenses")}
    assert rows["MIT/Mod. MIT"]["spdx"] == "http://spdx.org/licenses/MIT"
    assert rows["Apache 2.0"]["spdx"] == "http://spdx.org/licenses/Apache-2.0"
    assert rows["ODC-By"]["spdx"] == "http://spdx.org/licenses/ODC-By-1.0"
    for custom in ("LLaMA-2", "RAIL", "OPT Data", "Common Crawl (ComCrawl)"):
        assert rows[custom]["spdx"] == ""
    from kg.release.release import Release
    from kg.store import OxigraphStore

    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    flags = {
        r["id"].value: (r["osi"].value, r["fsf"].value)
        for r in store.raw_query(
            "SELECT ?id ?osi ?fsf WHERE { GRAPH <https://w3id.org/genai-openness/graph/links/spdx>"
            " { ?l <http://purl.org/dc/terms/identifier> ?id ;"
            " <https://w3id.org/genai-openness/ontology#osiApproved> ?osi ;"
            " <https://w3id.org/genai-openness/ontology#fsfLibre> ?fsf } }"
        )
    }
    assert flags["MIT"] == ("true", "true")
    assert flags["ODC-By-1.0"] == ("false", "false")  # as the SPDX data says


def test_library_has_twenty_analyst_questions():
    assert len(library()) >= 20


@pytest.mark.parametrize(
    ("name", "params", "expect"),
    [
        (
            "open-weights-closed-data",
            [],
            {"model": "GLM-130B", "weights": "D3", "pretraining_data": "D1"},
        ),
        (
            "most-closed-components",
            [],
            {"component": "utility-benchmark-data", "closed": "8", "applicable": "8"},
        ),
        (
            "openness-by-developer",
            ["kind=government institute"],
            {"developer": "TII", "models": "1", "open_weights": "1"},
        ),
        (
            "licenses-by-restrictiveness",
            [],
            {"license": "LLaMA-2", "restrictiveness": "moderately restrictive", "score": "3"},
        ),
        (
            "deployment-more-open-than-training",
            [],
            {"model": "Falcon", "training_open": "0", "deployment_open": "2"},
        ),
        ("openness-by-year", [], {"year": "2019", "models": "2", "open_weights": "2"}),
        (
            "contested-claims",
            [],
            {"id": "claim-1-closed-models-stronger-safeguards", "supports": "3"},
        ),
        ("risks-without-recommendation", [], {"kind": "claim"}),
    ],
)
def test_analyst_questions(built: Built, name, params, expect):
    args = [x for p in params for x in ("--param", p)]
    rows = query_rows(built.out, name, *args)
    assert any(expect.items() <= r.items() for r in rows), rows[:5]


def test_bind_comment_places_the_parameters_in_its_group(tmp_path: Path):
    """A `# bind ?a` comment takes the parameter's VALUES block in its place, inside a
    sub-select (where a block at the start of the WHERE group would not reach), once per
    comment, and leaves nothing there when the parameter is not given; other parameters keep
    their places. The store answers alike either way."""
    import pyoxigraph as ox

    path = tmp_path / "marked.rq"
    path.write_text(
        "# title: t\n# description: d\n# parameters:\n"
        "#   a: {type: iri}\n#   b: {type: iri}\n"
        "PREFIX ex: <http://example.org/>\n"
        "SELECT ?a ?b ?n WHERE {\n"
        "  { SELECT ?a (COUNT(*) AS ?n) WHERE {\n"
        "      # bind ?a\n"
        "      ?a ex:p ?o } GROUP BY ?a }\n"
        "  { # bind ?a\n    ?a ex:q ?b }\n"
        "}\n"
    )
    qf = parse_query_file(path)
    a, b = ox.NamedNode("http://example.org/x"), ox.NamedNode("http://example.org/z")
    bound = qf.with_values({"a": a, "b": b})
    assert bound.count("VALUES (?a) { (<http://example.org/x>) }") == 2
    assert "# bind" not in bound
    assert bound.endswith("VALUES (?b) { (<http://example.org/z>) }\n")  # unmarked: trails
    assert "VALUES" not in qf.with_values({}) and "# bind" not in qf.with_values({})
    store = ox.Store()
    ex = "http://example.org/"
    for s, p, o in [
        ("x", "p", "1"),
        ("x", "p", "2"),
        ("y", "p", "3"),
        ("x", "q", "z"),
        ("y", "q", "z"),
    ]:
        store.add(ox.Quad(ox.NamedNode(ex + s), ox.NamedNode(ex + p), ox.NamedNode(ex + o)))
    rows = [[t.value for t in s] for s in store.query(bound)]
    trailing = [
        [t.value for t in s] for s in store.query(qf.with_trailing_values({"a": a, "b": b}))
    ]
    assert rows == trailing == [[ex + "x", ex + "z", "2"]]
    assert len(list(store.query(qf.with_values({})))) == 2


def test_bind_comment_must_name_a_parameter(tmp_path: Path):
    path = tmp_path / "stray.rq"
    path.write_text(
        "# title: t\n# description: d\n# parameters:\n#   a: {type: iri}\n"
        "SELECT * WHERE {\n  # bind ?a ?c\n  ?a ?p ?c }\n"
    )
    with pytest.raises(QueryError, match=r"stray.rq: a '# bind' comment names \?c"):
        parse_query_file(path)
