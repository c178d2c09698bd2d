"""Risks, opportunities, claims, recommendations, evidence and regulations (§2, §4, §5, B.1)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from conftest import Built, query_rows, run_kg


def source(sources_dir: Path, name: str) -> list[dict[str, str]]:
    with (sources_dir / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_fifteen_statements_of_section_4(built: Built):
    rows = query_rows(built.out, "statements")
    assert list(rows[0]) == ["statement", "kind", "section", "area", "components", "id"]
    assert len(rows) == 15
    assert Counter(r["kind"] for r in rows) == {"opportunity": 13, "risk": 2}
    risks = {r["statement"] for r in rows if r["kind"] == "risk"}
    assert risks == {
        "Open Models Can Also be Made to Generate Unsafe Content",
        "Open Models Cannot be Rolled Back or Updated",
    }
    assert {r["section"] for r in rows} == {"4.1", "4.2", "4.3", "4.4", "4.5"}
    rolled_back = next(r for r in rows if r["statement"].startswith("Open Models Cannot be Rolled"))
    assert "weights" in rolled_back["components"].split("; ")
    only_risks = query_rows(built.out, "statements", "-p", "kind=risk")
    assert len(only_risks) == 2


def test_claims_with_verdicts_and_stances(built: Built, sources_dir: Path):
    rows = query_rows(built.out, "claims")
    assert list(rows[0]) == ["claim", "verdict", "stance", "evidence", "year"]
    claims = {r["claim"] for r in rows}
    assert len(claims) == 4
    first = [r for r in rows if r["claim"].startswith("Closed Models Have Inherently Stronger")]
    stances = Counter(r["stance"] for r in first)
    assert stances["supports"] >= 3 and stances["contests"] >= 5
    assert any(
        r["evidence"].startswith("Röttger et al.") and r["stance"] == "supports" for r in first
    )
    assert any(r["evidence"].startswith("Zou et al.") and r["stance"] == "contests" for r in first)
    # every citation of a claim in the curated source appears once
    citations = source(sources_dir, "paper/citations.csv")
    claim_ids = {c["id"] for c in source(sources_dir, "paper/claims.csv")}
    cited = [c for c in citations if c["citing"] in claim_ids]
    assert len([r for r in rows if r["evidence"]]) == len(cited)


def test_evidence_for_a_statement(built: Built, sources_dir: Path):
    citations = source(sources_dir, "paper/citations.csv")
    target = "open-models-can-generate-unsafe-content"
    rows = query_rows(built.out, "evidence-for", "-p", f"id={target}")
    assert {r["id"] for r in rows} == {target}
    assert len(rows) == sum(1 for c in citations if c["citing"] == target)
    assert {r["stance"] for r in rows} <= {"supports", "contests"}
    missing = run_kg("query", "evidence-for", "--out", str(built.out))
    assert missing.returncode == 2 and "parameter 'id' is required" in missing.stderr


def test_risks_by_component(built: Built):
    rows = query_rows(built.out, "risks-by-component", "-p", "component=weights")
    assert rows and {r["component"] for r in rows} == {"weights"}
    assert "Open Models Cannot be Rolled Back or Updated" in {r["risk"] for r in rows}
    assert all(r["basis"] for r in rows)


def test_every_recommendation_addresses_a_risk_or_claim(built: Built, sources_dir: Path):
    rows = query_rows(built.out, "recommendations-for")
    recs = {r["title"] for r in source(sources_dir, "paper/recommendations.csv")}
    assert len(recs) == 5
    assert {r["recommendation"] for r in rows} == recs
    risk = query_rows(
        built.out, "recommendations-for", "-p", "id=open-models-can-generate-unsafe-content"
    )
    assert risk and all(r["basis"] for r in risk)


def test_regulations(built: Built):
    rows = query_rows(built.out, "regulations")
    assert len(rows) >= 7
    by_title = {r["regulation"]: r for r in rows}
    eu = next(r for t, r in by_title.items() if "AI Act" in t)
    assert eu["match"] == "http://data.europa.eu/eli/reg/2024/1689/oj"
    assert any(r["jurisdiction"] and "China" in r["jurisdiction"] for r in rows)
    assert all(r["jurisdiction"] for r in rows)


def test_uncited_statements_are_listed_and_carry_no_evidence(built: Built, sources_dir: Path):
    marked = {r["id"] for r in source(sources_dir, "paper/statements.csv") if r["uncited"] == "yes"}
    marked |= {r["id"] for r in source(sources_dir, "paper/claims.csv") if r["uncited"] == "yes"}
    rows = query_rows(built.out, "uncited")
    assert {r["id"] for r in rows} == marked
    for ident in marked:
        assert query_rows(built.out, "evidence-for", "-p", f"id={ident}") == []


def test_alignments_listed(built: Built):
    rows = query_rows(built.out, "alignments")
    assert rows
    assert {r["predicate"].rsplit("#", 1)[1] for r in rows} <= {
        "exactMatch",
        "closeMatch",
        "broadMatch",
        "narrowMatch",
        "relatedMatch",
    }
    assert any(
        r["object"] == "http://data.europa.eu/eli/reg/2024/1689/oj"
        and r["predicate"].endswith("exactMatch")
        for r in rows
    )
