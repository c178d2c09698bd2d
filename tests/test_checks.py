"""`kg check`: one check per .rq in queries/checks/, each firing on an edited copy of the sources
and giving exactly the paper's known findings on the paper; exit codes by severity."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Built
from kg.checks.derive import derive
from kg.checks.sparql_checks import (
    CheckResult,
    FailOn,
    errata_query_text,
    exit_code,
    load_checks,
    run_checks,
)
from kg.cli import app
from kg.errors import QueryError
from kg.paths import resource_dir
from kg.release.build import assemble
from kg.release.release import Release
from kg.store import OxigraphStore
from kg.store.queries import resolve
from kg.vocab.namespaces import DEFAULT_BASE, Base

CHECKS = [c for c in load_checks() if c.group == "errata"]  # the licenses group: test_licenses
# On the paper: 11 levels resting on a license Table 1 never scores, 3 cells where CC BY-SA-4.0
# has D4 in one cell and D5 in others; every other check is silent.
ON_THE_PAPER = {"unscored-license": 11, "license-level-inconsistent": 3}
# Edits of a copy of the sources, (file, first column, column) -> new cell.
EDITS = {
    ("table3.csv", "T5", "inference-code"): "C5 (Apache 2.0; RAIL)",  # RAIL gives C4
    ("table3.csv", "GPT-2", "weights"): "D4 (CC BY-SA-4.0)",  # unscored; D4 and D5 elsewhere
    ("table3.csv", "GPT-3", "inference-code"): "C4",  # a license-set level, no license
    ("table1.csv", "RAIL", "commercial"): "N",  # score 4 -> 3: category and levels change
}
# What each check must find on the edited sources: (model, component, license) of one row.
FIRES = {
    "level-differs-from-license-rule": ("T5", "inference-code", "Apache 2.0; RAIL"),
    "unscored-license": ("GPT-2", "weights", "CC BY-SA-4.0"),
    "license-level-inconsistent": ("GPT-2", "weights", "CC BY-SA-4.0"),
    "level-without-license": ("GPT-3", "inference-code", ""),
    "table1-score": ("", "", "RAIL"),
    "table1-restrictiveness": ("", "", "RAIL"),
    "table1-code-level": ("", "", "RAIL"),
    "table1-data-level": ("", "", "RAIL"),
}


def edit_sources(sources_dir: Path, target: Path, edits: dict[tuple[str, str, str], str]) -> Path:
    shutil.copytree(sources_dir, target)
    for (file, key, column), value in edits.items():
        path = target / "paper" / file
        with path.open(newline="") as f:
            data = list(csv.reader(f))
        header = data[0]
        rows = [r for r in data[1:] if r[0] == key]
        assert len(rows) == 1, f"{file}: no single row {key}"
        rows[0][header.index(column)] = value
        with path.open("w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(data)
    return target


@pytest.fixture(scope="module")
def edited_results(sources_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The checks on the edited sources, asserted and derived in memory (as kg build does)."""
    src = edit_sources(sources_dir, tmp_path_factory.mktemp("checks") / "sources", EDITS)
    asserted = assemble(src)
    store = OxigraphStore.in_memory()
    store.add_quads(asserted)
    b = Base(DEFAULT_BASE)
    derive(store, b, sorted({q.graph_name for q in asserted} - {b.graph("metadata")}, key=str))
    return {r.check.name: r for r in run_checks(store)}


@pytest.fixture(scope="module")
def paper_results(built: Built) -> dict[str, CheckResult]:
    store = Release.current(built.out).open_store()
    return {r.check.name: r for r in run_checks(store)}


def test_every_check_is_tested():
    # the Hub's lineage checks (hub-*) are tested on Hub fixtures in tests/test_hf.py
    assert sorted(c.name for c in CHECKS if not c.name.startswith("hub-")) == sorted(FIRES)
    assert all(c.group == "errata" for c in CHECKS if not c.name.startswith("hub-"))


@pytest.mark.parametrize("name", sorted(FIRES))
def test_check_fires_on_edited_sources(name: str, edited_results, paper_results):
    rows = edited_results[name].rows
    found = {(r["model"], r["component"], r["license"]) for r in rows}
    assert FIRES[name] in found
    assert all(r["rule"] == name for r in rows)
    # and on the paper it gives exactly the known findings (none for most)
    assert len(paper_results[name].rows) == ON_THE_PAPER.get(name, 0)
    assert FIRES[name] not in {
        (r["model"], r["component"], r["license"]) for r in paper_results[name].rows
    }


def test_errata_query_is_generated_from_the_checks():
    """queries/errata.rq is the union of the errata checks (run `kg docs` after editing one)."""
    text = (resource_dir("queries") / "errata.rq").read_text(encoding="utf-8")
    assert text == errata_query_text()


def test_errata_rows_are_the_checks_rows(built: Built, paper_results):
    store = Release.current(built.out).open_store()

    union = [
        {k: (v.value if v is not None else "") for k, v in row.items()}
        for row in store.select(resolve("errata")).rows
    ]
    from_checks = [{k: row[k] for k in union[0]} for r in paper_results.values() for row in r.rows]
    key = lambda r: (r["rule"], r["model"], r["component"], r["license"])  # noqa: E731
    assert sorted(union, key=key) == sorted(from_checks, key=key)
    report = (Release.current(built.out).reports / "errata.md").read_text()
    for c in (c for c in CHECKS if c.group == "errata"):  # titles from the checks' headers
        assert f"| {c.title} | `{c.name}` | {c.severity.value} |" in report


def test_severities_decide_the_exit(paper_results):
    results = list(paper_results.values())
    assert {r.check.name: r.severity.value for r in results if not r.passed} == {
        "unscored-license": "info",
        "license-level-inconsistent": "warn",
    }
    assert exit_code(results, FailOn.ERROR) == 0
    assert exit_code(results, FailOn.WARN) == 1
    assert exit_code(results, FailOn.INFO) == 1
    assert exit_code(results, FailOn.NONE) == 0


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_kg_check_exit_codes_and_reports(built: Built):
    for fail_on, code in (("error", 0), ("warn", 1), ("info", 1), ("none", 0)):
        res = invoke("check", "--fail-on", fail_on, "--out", str(built.out))
        assert res.exit_code == code, (fail_on, res.output)
    assert "INFO  unscored-license: 11 finding(s)" in res.output
    reports = Release.current(built.out).reports
    data = json.loads((reports / "checks.json").read_text())
    assert data["fail_on"] == "none" and data["exit"] == 0
    assert {c["name"]: len(c["rows"]) for c in data["checks"] if c["rows"]} == ON_THE_PAPER
    assert "| `license-level-inconsistent` | warn | 3 |" in (reports / "checks.md").read_text()


def test_an_error_fails_by_default(edited_results):
    results = list(edited_results.values())
    failing = {r.check.name for r in results if r.fails(FailOn.ERROR)}
    assert failing == {"level-without-license"}
    assert exit_code(results, FailOn.ERROR) == 1
    assert exit_code(results, FailOn.NONE) == 0


def test_kg_check_without_a_build_exits_2(tmp_path: Path):
    res = CliRunner().invoke(app, ["check", "--out", str(tmp_path)])
    assert res.exit_code == 2


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("# title: t\n# description: d\n# columns: {x: y}\n", "severity"),
        ("# title: t\n# description: d\n# severity: fatal\n# columns: {x: y}\n", "severity"),
        ("# title: t\n# description: d\n# severity: warn\n", "columns"),
    ],
)
def test_malformed_check_is_named(tmp_path: Path, header: str, message: str):
    (tmp_path / "bad.rq").write_text(header + "SELECT ?x WHERE { ?x ?p ?o }\n")
    with pytest.raises(QueryError, match=rf"bad\.rq.*{message}"):
        load_checks(tmp_path)
