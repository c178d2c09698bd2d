"""`kg import eosai|mot`: other openness indexes beside the paper, model identity across sources,
the crosswalk, and the questions that join them (who-says, source-disagreements, coverage,
evidence-for-judgment), while the paper's own questions keep answering what the paper says."""

from __future__ import annotations

import csv
import functools
import html
import json
import os
import shutil
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from conftest import Built, run_kg
from kg.errors import SourceError
from kg.release.build import build
from kg.sources import eosai, mot
from kg.sources.frameworks import load_frameworks
from kg.sources.identity import Curated, Record, load_curated, parse_variant, resolve
from kg.store import OxigraphStore
from kg.store.queries import library
from kg.store.queries import resolve as find_query

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://w3id.org/genai-openness/"
# the questions that join sources: everything else is the paper's and must not change
CROSS_SOURCE = {
    "who-says",
    "source-disagreements",
    "coverage",
    "evidence-for-judgment",
    "wikidata-differences",
    # questions over every source's models or license mentions (the paper's part is checked
    # below for definitions)
    "definitions",
    "license-coverage",
    "unresolved-licenses",
    "license-conflicts",
    "transparency",
    "eosai-scores",  # EOSAI's own scores: none without the EOSAI import
}
PAPER = "Near to Mid-term Risks and Opportunities of Open Source Generative AI"
EOSAI = "European Open Source AI Index"
MOT = "Model Openness Tool (LF AI & Data)"
TRACKER = "The paper's online tracker (3 model files, imported with kg import tracker)"


@functools.cache
def _store(out: Path) -> OxigraphStore:
    return OxigraphStore.open_read_only(out / "current" / "store")


def rows(out: Path, name: str, **params: object) -> list[dict[str, str]]:
    result = _store(out).select(find_query(name), params)
    return [{k: (v.value if v is not None else "") for k, v in r.items()} for r in result.rows]


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory):
    """The fixtures of every source imported into one workspace, then built."""
    base = tmp_path_factory.mktemp("everything")
    ws = base / "workspace"
    procs = {}
    for source, folder in (
        ("tracker", FIXTURES / "tracker" / "good"),
        ("eosai", FIXTURES / "eosai" / "good"),
        ("mot", FIXTURES / "mot" / "good"),
    ):
        procs[source] = run_kg("import", source, str(folder), "--workspace", str(ws))
        assert procs[source].returncode == 0, procs[source].stderr
    out = base / "out"
    build(out, workspace=ws)
    return out, ws, procs


def test_import_reports_what_it_left_out_and_could_not_match(everything):
    _out, ws, procs = everything
    text = procs["eosai"].stdout
    assert "Imported 3 European Open Source AI Index record(s), 40 judgments" in text
    assert "parameter 'sparkle' is not one of the 2023 schema's: left out" in text
    assert "org.link 'tii.ae' is not an absolute http(s) IRI: kept as text" in text
    assert "not matched: bloomz.yaml ('BLOOMZ')" in text  # not guessed to be BLOOM
    assert "not matched: llama-2-chat.yaml" not in text
    text = procs["mot"].stdout
    assert "component 'Quantum widgets' is not in the MOF: left out" in text
    assert "not matched: OLMo-7B.yml ('OLMo-7B')" in text
    provenance = json.loads((ws / "imports" / "eosai.provenance.json").read_text())
    assert provenance["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "osai-index.eu" in provenance["attribution"]
    assert provenance["retrieved"] and not provenance["commit"]  # the fixtures are no git clone
    lines = (ws / "imports" / "eosai.jsonl").read_text().splitlines()
    assert {json.loads(x)["generation"] for x in lines} == {"2023", "2025", "2026"}


def test_table3_cell_by_cell_whatever_is_imported(everything, sources_dir: Path):
    """Regression: with the tracker imported, table3 gave 24 rows for LLaMA-2 (both sources)."""
    out, _ws, _procs = everything
    got = rows(out, "table3")
    assert len(got) == 480
    with (sources_dir / "paper" / "table3.csv").open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    expected = []
    for row in table:
        for component, cell in list(row.items())[1:]:
            level = cell.split(" ", 1)[0]
            licenses = cell.split("(", 1)[1].rstrip(")") if "(" in cell else ""
            if level == "?":
                licenses = ""  # '? (D3 or D4)' names candidate levels, not licenses
            expected.append((row["model"], component, level, licenses))
    cells = [(r["model"], r["component"], r["level"], r["license"]) for r in got]
    assert [c[:3] for c in cells] == [e[:3] for e in expected]
    for cell, exp in zip(cells, expected, strict=True):
        if exp[3]:
            assert cell[3] == exp[3], cell
    assert len(rows(out, "table3", model=Literal("LLaMA-2"))) == 12


def test_the_papers_questions_answer_the_same_with_every_source_imported(everything, built: Built):
    out, _ws, _procs = everything
    asked = 0
    for query in library():
        if query.name in CROSS_SOURCE or any(p.required for p in query.parameters):
            continue
        assert rows(out, query.name) == rows(built.out, query.name), query.name
        asked += 1
    assert asked >= 20
    # the definitions' verdicts on the paper's models do not change when other sources arrive
    alone = rows(built.out, "definitions")
    paper = {r["model"] for r in alone}
    assert len(paper) == 40
    # (EOSAI's own score is a verdict only where EOSAI judges the model: not on the paper alone)
    score = "https://w3id.org/genai-openness/ontology#eosai-openness-score"
    got = [r for r in rows(out, "definitions") if r["model"] in paper]
    assert [r for r in got if r["definition"] != score] == alone
    assert {r["name"] for r in got if r["definition"] == score} >= {"LLaMA-2"}


def test_who_says_gathers_a_familys_variants(everything):
    out, _ws, _procs = everything
    got = rows(out, "who-says", model=Literal("LLaMA-2"))
    assert {r["source"] for r in got} >= {PAPER, EOSAI, MOT}
    assert any("tracker" in r["source"] for r in got)
    weights = {
        (r["source"], r["variant"], r["term"], r["judgment"])
        for r in got
        if r["component"] == "weights"
    }
    assert weights >= {
        (PAPER, "LLaMA-2", "weights", "D3"),
        (EOSAI, "Llama-2-70B", "weights_basemodel", "partial"),
        (EOSAI, "Llama-2-70B-Chat", "weights_endmodel", "open"),
        (MOT, "Llama-2-7B", "model-parameters-final", "Llama 2 Community License"),
        (MOT, "Llama-2-chat-70B", "model-parameters-final", "Apache-2.0"),
    }
    card = next(r for r in got if r["term"] == "modelcard")
    assert card["evidence"] == (
        "https://example.org/llama-model-card https://example.org/llama-model-card-2"
    )
    assert card["note"] == "A minimal model card." and card["match"] == "exactMatch"
    assert card["graph"].endswith("graph/imports/eosai")
    # the same answer under another source's name for the family
    assert rows(out, "who-says", model=Literal("Llama 2")) == [
        {**r, "model": "Llama 2"} for r in got
    ]
    # a variant alone: only what is said of it
    one = rows(out, "who-says", model=Literal("Llama-2-7B"))
    assert one and {r["variant"] for r in one} == {"Llama-2-7B"}


def test_who_says_of_a_name_is_the_listings_rows_for_that_name(everything):
    """who-says looks a name up (as written, and as English) rather than comparing it with every
    name: asked of each name the listing gives, it answers that name's rows of the listing."""
    out, _ws, _procs = everything
    listing = rows(out, "who-says")
    names = sorted({r["model"] for r in listing})
    assert {"LLaMA-2", "Llama 2", "Llama-2-7B"} <= set(names)
    for name in names:
        expected = sorted(tuple(r.values()) for r in listing if r["model"] == name)
        got = sorted(tuple(r.values()) for r in rows(out, "who-says", model=Literal(name)))
        assert got == expected, name
    assert rows(out, "who-says", model=Literal("no such model")) == []


def test_disagreements_between_every_pair_of_sources(everything):
    out, _ws, _procs = everything
    got = rows(out, "source-disagreements", model=Literal("LLaMA-2"))
    pairs = {
        (
            r["component"],
            r["first"],
            r["first_source"],
            r["first_variant"],
            r["second"],
            r["second_source"],
            r["second_variant"],
        )
        for r in got
    }
    assert {p for p in pairs if p[0] == "weights"} == {
        # the paper's D3 (semi-open) against EOSAI's open end-model weights
        ("weights", "D3", PAPER, "LLaMA-2", "open", EOSAI, "Llama-2-70B-Chat"),
        # ... and against the MOT's Apache-2.0 (open) for the 70B chat release
        ("weights", "D3", PAPER, "LLaMA-2", "Apache-2.0", MOT, "Llama-2-chat-70B"),
        # EOSAI partial (semi-open) base weights against the MOT's Apache-2.0 release
        ("weights", "partial", EOSAI, "Llama-2-70B", "Apache-2.0", MOT, "Llama-2-chat-70B"),
        # EOSAI open end-model weights against the 7B's community license (semi-open)
        (
            "weights",
            "open",
            EOSAI,
            "Llama-2-70B-Chat",
            "Llama 2 Community License",
            MOT,
            "Llama-2-7B",
        ),
        # the tracker says D3 too: the same two disagreements with it
        ("weights", "open", EOSAI, "Llama-2-70B-Chat", "D3", TRACKER, "Llama 2"),
        ("weights", "Apache-2.0", MOT, "Llama-2-chat-70B", "D3", TRACKER, "Llama 2"),
    }
    # the tracker's cells are still compared with the paper's as written
    assert any(
        r["first"] == "C3" and r["second"] == "C4" and "tracker" in r["second_source"] for r in got
    )
    # broad or narrow matches are never compared (EOSAI trainingcode vs the paper's codes)
    assert not any(r["component"] == "pretraining-code" for r in got)


def test_model_page_sets_every_source_side_by_side(everything):
    from kg.outputs.pages import Site
    from kg.vocab.namespaces import Base

    out, _ws, _procs = everything
    site = Site(_store(out), Base(BASE))
    page = site.render(BASE + "model/llama-2")
    section = page[page.index("<h2>What each source says</h2>") :]
    section = section[: section.index("</table>")]
    header, *body = section.split("<tr>")[1:]
    heads = [html.unescape(h.split("</th>")[0]) for h in header.split("<th>")[2:]]
    assert heads == sorted([EOSAI, MOT, PAPER, TRACKER])
    weights = next(r for r in body if r.startswith("<td>weights</td>"))
    cells = weights.split("<td>")[2:]
    # EOSAI's two variants with their evidence, the MOT's licenses per release, the paper's D3
    assert (
        "<b>open</b> (Llama-2-70B-Chat, closeMatch)" in cells[0]
        and "<b>partial</b> (Llama-2-70B, closeMatch)" in cells[0]
    )
    assert '<a href="https://' in cells[0]
    assert "<b>Apache-2.0</b> (Llama-2-chat-70B" in cells[1]
    assert "<b>Llama 2 Community License</b> (Llama-2-7B" in cells[1]
    assert "<b>D3</b> (LLaMA-2)" in cells[2] and "table-3" in cells[2]
    assert "<b>D3</b> (Llama 2)" in cells[3]
    # a model only the paper judges has no such table
    assert "What each source says" not in site.render(BASE + "model/gpt-4")


def _verdicts(out: Path, model: str) -> dict[str, tuple[str, dict[str, str], list[str]]]:
    """definition -> (verdict, {condition: outcome}, [texts of the checks])."""
    got: dict[str, tuple[str, dict[str, str], list[str]]] = {}
    for r in rows(out, "explain", model=NamedNode(BASE + "model/" + model)):
        _verdict, outcomes, checks = got.setdefault(r["definition"], (r["verdict"], {}, []))
        outcomes[r["condition"]] = r["outcome"]
        checks.append(f"{r['check_outcome'] or r['outcome']}: {r['check']}")
    return got


OSAID = "Open Source AI Definition 1.0 (OSI)"
EU = "EU AI Act open-source exemption (Art. 53(2))"
LEVELS = "Openness levels of Eiras et al. (2024)"
SCORE = "European Open Source AI Index openness score"


def test_definitions_on_a_model_only_eosai_judges(everything):
    """BLOOMZ (EOSAI alone): each definition runs on the index's parameter judgments and its
    end-model license resolved through the knowledge base; each failed check names the record."""
    out, _ws, _procs = everything
    v = _verdicts(out, "bloomz")
    assert v[OSAID][0] == "not conformant"
    assert v[OSAID][1]["parameters under OSI-approved terms"] == "failed"
    assert (
        "failed: model architecture and weights (European Open Source AI Index 'End User Model "
        "Weights': open): D4 under BigScience RAIL License v1.0 (not OSI approved)"
    ) in v[OSAID][2]
    # EOSAI names no license for the training code: undetermined, never guessed
    assert v[OSAID][1]["code under OSI-approved licenses"] == "undetermined"
    assert v[EU][0] == "not eligible"
    assert v[EU][1]["free and open-source licence"] == "failed"
    assert any("use-based restrictions (European Open Source AI Index" in c for c in v[EU][2])
    assert v[LEVELS][0] == "open weights"
    assert v[SCORE][0] == "score 0.786"
    assert v[SCORE][1] == {"every applicable parameter open": "failed"}


def test_definitions_on_a_model_only_mot_describes(everything):
    """OLMo-7B (MOT alone): component licenses as written, resolved through the knowledge base;
    the record lists no weights, so whatever turns on the weights is undetermined, and says so."""
    out, _ws, _procs = everything
    v = _verdicts(out, "olmo-7b")
    assert v[OSAID][0] == "undetermined"
    assert v[OSAID][1]["parameters under OSI-approved terms"] == "undetermined"
    assert "undetermined: no source in the graph assesses what the condition needs" in v[OSAID][2]
    assert (
        "met: pre-training code (Model Openness Framework 1.0 (Model Openness Tool) 'Training "
        "code' under 'Apache 2.0'): C5 under Apache License 2.0 (OSI approved)"
    ) in v[OSAID][2]
    assert v[EU][0] == "undetermined"
    assert v[EU][1]["parameters including weights public"] == "undetermined"
    assert v[LEVELS][0] == "partly open"


def test_definitions_need_each_component_once(everything):
    """Falcon-40B-instruct: EOSAI's two weights judgments (LLM and RL weights, D5 by Apache-2.0)
    do not make the deployment fully open without the inference code, which no source judges;
    its closed 'open code' (broader than pre-training code) does not say the pre-training code
    is closed."""
    out, _ws, _procs = everything
    v = _verdicts(out, "falcon-40b-instruct")
    assert v[LEVELS][1]["deployment fully open (C5, D5)"] == "undetermined"
    assert v[LEVELS][0] == "open weights"
    assert v[OSAID][1]["parameters under OSI-approved terms"] == "met"
    assert v[OSAID][1]["code under OSI-approved licenses"] == "undetermined"
    assert v[EU][1]["free and open-source licence"] == "met"
    assert v[EU][0] == "undetermined"


def eosai_scores(folder: Path) -> dict[str, float]:
    """The index's score of each file, straight from its YAML (not through the importer): the
    mean over the index's parameters that have a class, open 1, partial 0.5, closed 0."""
    import yaml

    points = {"open": 1.0, "partial": 0.5, "closed": 0.0}
    scores: dict[str, float] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == eosai.TEMPLATE:
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        groups = [raw] + [raw[k] for k in ("project",) if isinstance(raw.get(k), dict)]
        values = [
            points[v["class"]]
            for g in groups
            for k, v in g.items()
            if k in eosai.PARAMETERS and isinstance(v, dict) and v.get("class") in points
        ]
        if values:
            scores[path.name] = round(sum(values) / len(values), 3)
    return scores


def graph_scores(out: Path) -> dict[str, float]:
    """file -> the score the eosai-openness-score rule computed."""
    found: dict[str, float] = {}
    for r in rows(out, "eosai-scores"):
        found[r["file"]] = float(r["score"])
    return found


def test_eosai_score_recomputed_equals_the_index(everything):
    out, _ws, _procs = everything
    assert graph_scores(out) == eosai_scores(FIXTURES / "eosai" / "good")


def test_evidence_and_coverage(everything):
    out, _ws, _procs = everything
    cited = rows(
        out, "evidence-for-judgment", evidence=NamedNode("https://example.org/llama-model-card")
    )
    assert {(r["model"], r["term"], r["judgment"]) for r in cited} == {
        ("Llama 2", "modelcard", "partial"),
        ("BLOOMZ", "modelcard", "open"),
    }
    cover = {(r["source"], r["other"]): r for r in rows(out, "coverage")}
    assert cover[(PAPER, PAPER)]["models"] == "40"
    assert cover[(EOSAI, EOSAI)]["models"] == "3"
    assert cover[(EOSAI, EOSAI)]["judgments"] == "40"
    assert cover[(MOT, MOT)]["models"] == "2"  # Llama 2's two variants count once, and OLMo
    assert cover[(PAPER, EOSAI)]["models"] == "2"  # LLaMA-2, and Falcon by its 40B variant
    assert cover[(PAPER, MOT)]["models"] == "1"
    assert cover[(EOSAI, MOT)]["models"] == "1"


def test_each_source_in_its_own_graph_with_provenance(everything):
    out, _ws, _procs = everything
    answer = _store(out).raw_query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>"
        " SELECT ?g ?license ?cite ?up WHERE { ?g prov:wasDerivedFrom ?d ."
        " ?d dcterms:license ?license ; dcterms:source ?up ."
        " OPTIONAL { ?d dcterms:bibliographicCitation ?cite } }"
    )
    found = {s["g"].value.rsplit("/", 1)[-1]: s for s in answer}
    assert found["eosai"]["license"].value == "https://creativecommons.org/licenses/by/4.0/"
    assert "Liesenfeld" in found["eosai"]["cite"].value
    assert found["eosai"]["up"].value.endswith("Language-Technology-Assessment/main-database")
    assert found["mot"]["up"].value.endswith("lfai/model_openness_tool")


# --- bad input ----------------------------------------------------------------------------


def _eosai_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "eosai"
    folder.mkdir()
    shutil.copy(FIXTURES / "eosai" / "good" / "llama-2-chat.yaml", folder)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


GOOD = (FIXTURES / "eosai" / "good" / "llama-2-chat.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "where", "message"),
    [
        ({"x.yaml": "- a\n- b\n"}, "x.yaml", "not a YAML mapping"),
        (
            {"x.yaml": GOOD.replace("Llama 2", "X").replace("class: partial", "class: half", 1)},
            "x.yaml",
            "unknown class 'half'",
        ),
        (
            {
                "x.yaml": GOOD.replace("Llama 2", "X").replace(
                    "https://example.org/llama-repo", "https://example.org/a repo"
                )
            },
            "x.yaml",
            "is not an absolute http(s) IRI",
        ),
        ({"x.yaml": GOOD.replace("Llama 2", "Llama-2")}, "x.yaml", "duplicate model"),
        (
            {
                "x.yaml": GOOD.replace(
                    "notes: A test entry.", "notes: !!python/object/apply:os.getcwd []"
                )
            },
            "x.yaml",
            "is not allowed",
        ),
    ],
)
def test_bad_eosai_records(tmp_path: Path, files, where, message):
    with pytest.raises(SourceError) as info:
        eosai.read_eosai(_eosai_folder(tmp_path, files))
    text = str(info.value)
    assert text.startswith("x.yaml") and message in text
    if "class" in message:
        assert info.value.record == "X" and info.value.field == "weights_basemodel.class"
    if "IRI" in message:
        assert info.value.field == "trainingcode.link"


def test_bad_mot_records(tmp_path: Path):
    folder = tmp_path / "mot"
    folder.mkdir()
    (folder / "a.yml").write_text("release: [1, 2]\n")
    with pytest.raises(SourceError, match="'release' must be a mapping"):
        mot.read_mot(folder)
    (folder / "a.yml").write_text("release:\n  version: 1\n")
    with pytest.raises(SourceError) as info:
        mot.read_mot(folder)
    assert info.value.field == "release.name"
    text = (FIXTURES / "mot" / "good" / "models" / "OLMo-7B.yml").read_text()
    (folder / "a.yml").write_text(text)
    (folder / "b.yml").write_text(text)
    with pytest.raises(SourceError, match="duplicate release") as info:
        mot.read_mot(folder)
    assert info.value.file == "b.yml" and info.value.record == "OLMo-7B"


def test_a_bad_import_changes_nothing(tmp_path: Path):
    ws = tmp_path / "ws"
    assert (
        run_kg(
            "import", "eosai", str(FIXTURES / "eosai" / "good"), "--workspace", str(ws)
        ).returncode
        == 0
    )
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
    folder = _eosai_folder(
        tmp_path,
        {"x.yaml": GOOD.replace("Llama 2", "X").replace("class: open", "class: wide-open", 1)},
    )
    proc = run_kg("import", "eosai", str(folder), "--workspace", str(ws))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "x.yaml" in message and "record 'X'" in message and "class" in message
    assert {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()} == before


# --- identity and crosswalk -------------------------------------------------------------


def test_variant_names():
    v = parse_variant("Llama-2-chat-70B")
    assert (v.family, v.size, v.kind) == ("Llama-2", "70B", "chat")
    v = parse_variant("Mixtral-8x7B-Instruct-v0.1")
    assert (v.family, v.size, v.kind, v.version) == ("Mixtral", "8x7B", "instruct", "v0.1")
    assert parse_variant("OPT") is None


def test_identity_rules():
    paper = {"llama-2": ["LLaMA-2"], "codet5": ["CodeT5"]}
    recs = [
        Record("eosai", "a.yaml", "Llama 2"),
        Record("eosai", "b.yaml", "CodeT5+"),  # not CodeT5
        Record("mot", "c.yml", "Llama-2-chat-7B"),
        Record("mot", "d.yml", "Foo", ("org/foo",)),
        Record("mot", "e.yml", "Foo Two", ("org/foo",)),  # one source repeating a link: no match
        Record("eosai", "f.yaml", "Bar", ("org/bar",)),
        Record("mot", "g.yml", "Bar-Instruct-Thing", ("org/bar",)),  # another source's link
        Record("mot", "h.yml", "Odd", ()),
    ]
    curated = {("mot", "h.yml"): Curated("llama-2-odd", "llama-2", "reviewed")}
    res = resolve(paper, recs, curated)
    get = {i.record: i for i in res.identities}
    assert get["a.yaml"].model == "llama-2" and get["a.yaml"].matched
    assert get["b.yaml"].model == "codet5-plus" and not get["b.yaml"].matched
    assert (get["c.yml"].model, get["c.yml"].variant_of) == ("llama-2-chat-7b", "llama-2")
    assert get["e.yml"].model == "foo-two" and not get["e.yml"].matched
    assert get["g.yml"].model == "bar" and "Hugging Face" in get["g.yml"].basis
    assert get["h.yml"].variant_of == "llama-2" and get["h.yml"].basis == "curated: reviewed"


def test_crosswalk_rows_are_checked(tmp_path: Path, sources_dir: Path):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir, root)
    path = root / "curation" / "crosswalk.csv"
    text = path.read_text()
    path.write_text(text.replace("skos:closeMatch", "skos:sameAs", 1))
    with pytest.raises(SourceError) as info:
        load_frameworks(root, {"weights", "pretraining-data"})
    assert info.value.field == "predicate_id" and info.value.line == 2


# --- the real snapshots (opt-in) -----------------------------------------------------------


def _shared() -> Path | None:
    for candidate in (
        Path(os.environ.get("KG_SHARED_DATA", "/nonexistent")),
        Path("/work/shared/data"),
        Path(__file__).resolve().parents[2] / "shared" / "data",
    ):
        if (candidate / "eosai").is_dir() and (candidate / "mot").is_dir():
            return candidate
    return None


@pytest.mark.shared_data
def test_real_snapshots_import_and_answer(tmp_path: Path):
    data = _shared()
    if data is None:
        pytest.skip("../shared/data (the real EOSAI and MOT snapshots) is not here")
    import yaml

    ws = tmp_path / "ws"
    for source in ("eosai", "mot"):
        proc = run_kg("import", source, str(data / source), "--workspace", str(ws))
        assert proc.returncode == 0, proc.stderr
    e = eosai.load_imported(ws / "imports" / "eosai.jsonl")
    m = mot.load_imported(ws / "imports" / "mot.jsonl")
    assert len(e) == 193 and len(m) == 273
    # every parameter and component value is imported or reported with its reason
    reading = eosai.read_eosai(data / "eosai")
    for path in sorted((data / "eosai").glob("*.yaml")):
        if path.name == eosai.TEMPLATE:
            continue
        raw = yaml.safe_load(path.read_text())
        record = next(r for r in e if r.file == path.name)
        params = set(raw) - {"system", "org"}
        kept = {j.parameter for j in record.judgments}
        left = {
            p for p in params - kept if any(path.name in x and p in x for x in reading.reported)
        }
        assert params == kept | left, path.name
    for path in sorted((data / "mot" / "models").glob("*.yml")):
        raw = yaml.safe_load(path.read_text())
        record = next(r for r in m if r.file == path.name)
        assert len(raw["release"].get("components") or []) == len(record.components), path.name
    out = tmp_path / "out"
    build(out, workspace=ws)
    said = rows(out, "who-says", model=Literal("LLaMA-2"))
    assert {r["source"] for r in said} == {PAPER, EOSAI, MOT}
    assert {r["variant"] for r in said if r["source"] == MOT} >= {"Llama-2-7B", "Llama-2-chat-70B"}
    assert len(rows(out, "table3")) == 480
    # every definition on every model of every source, each verdict with its conditions
    counts: dict[tuple[str, str], int] = {}
    for r in rows(out, "definitions"):
        definition = r["definition"].rsplit("#", 1)[-1]
        value = "scored" if definition == "eosai-openness-score" else r["verdict"].rsplit("#")[-1]
        counts[(definition, value)] = counts.get((definition, value), 0) + 1
    print("definition verdicts, paper + EOSAI + MOT:", dict(sorted(counts.items())))
    assert counts[("eosai-openness-score", "scored")] == 193  # one per model file
    assert sum(n for (d, _), n in counts.items() if d == "mof-1-0") == 273  # one per MOT record
    judged = {
        d: {r["model"] for r in rows(out, "definitions") if r["definition"].endswith("#" + d)}
        for d in ("osaid-1-0", "eu-ai-act-open-source-exemption", "paper-levels")
    }
    print("models judged per definition:", {d: len(m) for d, m in judged.items()})
    # the three run on the same models: every model some source says anything about a component of
    assert (
        judged["osaid-1-0"] == judged["eu-ai-act-open-source-exemption"] == judged["paper-levels"]
    )
    assert len(judged["osaid-1-0"]) > 40  # not the paper's 40 alone
    # the EOSAI score recomputed from the judgments equals the index's, file by file
    assert graph_scores(out) == eosai_scores(data / "eosai")


def test_mot_alone_when_its_curated_family_is_absent(tmp_path: Path, sources_dir: Path):
    """A MOT release curated as a variant of a family only EOSAI names (Llama 3), imported
    without EOSAI: the import succeeds and reports the release as unmatched; its identity stands
    alone (its curated model id, no family), saying why."""
    ws = tmp_path / "workspace"
    proc = run_kg("import", "mot", str(FIXTURES / "mot" / "alone"), "--workspace", str(ws))
    assert proc.returncode == 0, proc.stderr
    assert "not matched: Llama-3-8B-Instruct.yml" in proc.stdout
    assert (ws / "imports" / "mot.jsonl").read_text().count("\n") == 1
    record = Record("mot", "Llama-3-8B-Instruct.yml", "Meta-Llama-3-8B-Instruct")
    alone = resolve({}, [record], load_curated(sources_dir)).of("mot", record.record)
    assert (alone.model, alone.variant_of, alone.matched) == ("meta-llama-3-8b-instruct", "", False)
    assert "its curated family 'llama-3' is not in this build" in alone.basis
