"""Curated statements of §2, §4, §5 and Appendix B.1: statements, claims, recommendations,
regulations, cited works, citations and the curators' links and alignments.

Like the tables loader, this checks form and references only, and every problem names the file,
line, record and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.sources.csvio import IDENTIFIER, Row, error_at, read_table
from kg.sources.iri import iri_problem

STATEMENTS = "paper/statements.csv"
CLAIMS = "paper/claims.csv"
RECOMMENDATIONS = "paper/recommendations.csv"
REGULATIONS = "paper/regulations.csv"
WORKS = "paper/cited-works.csv"
CITATIONS = "paper/citations.csv"
LINKS = "curation/links.csv"
ALIGNMENTS = "curation/alignments.csv"

KINDS = ("opportunity", "risk", "harm-pathway", "framing")
STAGES = ("near-term", "mid-term", "long-term")
VERDICTS = ("rejected", "not-established")
INSTRUMENTS = (
    "regulation",
    "executive-order",
    "administrative-measures",
    "ethics-principles",
    "national-strategy",
    "recommendation",
    "declaration",
    "government-programme",
)
STANCES = ("supports", "contests")
RELATIONS = ("concerns-component", "addresses", "concerns-statement")
MAPPING_PREDICATES = (
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
)
NO_YEAR = "n.d."
MAX_SUMMARY = 400
_SECTION = re.compile(r"^(?:\d+(?:\.\d+)*|B(?:\.\d+)*)$")
_DATE = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class Statement:
    id: str
    kind: str
    section: str
    title: str
    summary: str
    stages: tuple[str, ...]
    uncited: bool
    record: str


@dataclass(frozen=True)
class Claim:
    id: str
    number: int
    title: str
    summary: str
    verdict: str
    verdict_summary: str
    uncited: bool
    record: str
    section: str = "5.1"


@dataclass(frozen=True)
class Recommendation:
    id: str
    number: int
    title: str
    summary: str
    record: str
    section: str = "5.2"


@dataclass(frozen=True)
class Regulation:
    id: str
    title: str
    short_title: str
    instrument: str
    jurisdiction: str
    issuing_body: str
    date: str | None
    status: str
    open_source_position: str
    section: str
    record: str


@dataclass(frozen=True)
class CitedWork:
    id: str
    authors: str
    year: int | None  # None: the paper prints no year (n.d.)
    title: str
    identifier: str
    record: str


@dataclass(frozen=True)
class Citation:
    citing: str
    cited: str
    stance: str
    record: str


@dataclass(frozen=True)
class Link:
    subject: str
    relation: str
    object: str
    basis: str
    record: str


@dataclass(frozen=True)
class Alignment:
    subject: str
    predicate: str
    object: str
    object_label: str
    justification: str
    author: str
    date: str
    comment: str
    record: str


@dataclass
class CuratedStatements:
    statements: list[Statement] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    regulations: list[Regulation] = field(default_factory=list)
    works: list[CitedWork] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    alignments: list[Alignment] = field(default_factory=list)

    def kind_of(self, ident: str) -> str | None:
        for name, items in (
            ("statement", self.statements),
            ("claim", self.claims),
            ("recommendation", self.recommendations),
            ("regulation", self.regulations),
        ):
            if any(x.id == ident for x in items):
                return name
        return None


def _text(row: Row, column: str, *, required: bool = True, limit: int | None = None) -> str:
    value = row[column].strip()
    record = row.values.get("id") or row.values.get("citing") or row.values.get("subject")
    if required and not value:
        raise row.error("must not be empty", field=column, record=record)
    if limit and len(value) > limit:
        raise row.error(
            f"is {len(value)} characters long; keep it under {limit} (a short "
            "summary in your own words)",
            field=column,
            record=record,
        )
    return value


def _choice(row: Row, column: str, allowed: tuple[str, ...]) -> str:
    value = _text(row, column)
    if value not in allowed:
        record = row.values.get("id") or row.values.get("citing") or row.values.get("subject")
        raise row.error(
            f"unknown value '{value}' (expected one of {', '.join(allowed)})",
            field=column,
            record=record,
        )
    return value


def _ident(row: Row, column: str, seen: dict[str, str]) -> str:
    value = _text(row, column)
    if not IDENTIFIER.match(value):
        raise row.error(
            f"'{value}' is not a lower-case kebab-case identifier", field=column, record=value
        )
    if value in seen:
        raise row.error(
            f"duplicate identifier (already used at {seen[value]})", field=column, record=value
        )
    seen[value] = row.where
    return value


def _flag(row: Row, column: str) -> bool:
    value = _choice(row, column, ("yes", "no"))
    return value == "yes"


def _section(row: Row, column: str = "section") -> str:
    value = _text(row, column)
    if not _SECTION.match(value):
        raise row.error(
            f"'{value}' is not a section number such as 4.4 or B.1.2",
            field=column,
            record=row.values.get("id"),
        )
    return value


def _number(row: Row, column: str) -> int:
    value = _text(row, column)
    if not value.isdigit():
        raise row.error(
            f"malformed number '{value}': expected a whole number",
            field=column,
            record=row.values.get("id"),
        )
    return int(value)


def load_statements(root: Path, components: set[str]) -> CuratedStatements:
    """The paper's argument as checked records: statements, claims, recommendations,
    regulations, cited works and citations, and the curators' links and alignments."""
    out = CuratedStatements()
    ids: dict[str, str] = {}  # one identifier space for what citations and links can name
    _read_statements(root, out, ids)
    _read_claims(root, out, ids)
    _read_recommendations(root, out, ids)
    _read_regulations(root, out, ids)
    works = _read_works(root, out)
    _read_citations(root, out, works)
    _check_uncited(out)
    _read_links(root, out, components)
    _read_alignments(root, out)
    return out


def _read_statements(root: Path, out: CuratedStatements, ids: dict[str, str]) -> None:
    """The paper's risks, opportunities and other statements (statements.csv)."""
    for row in read_table(
        root / STATEMENTS,
        ["id", "kind", "section", "title", "summary", "stages", "uncited"],
        display=STATEMENTS,
    ):
        stages = tuple(s.strip() for s in _text(row, "stages").split("|"))
        for s in stages:
            if s not in STAGES:
                raise row.error(
                    f"unknown development stage '{s}' (expected {', '.join(STAGES)}, "
                    "separated by |)",
                    field="stages",
                    record=row["id"],
                )
        out.statements.append(
            Statement(
                _ident(row, "id", ids),
                _choice(row, "kind", KINDS),
                _section(row),
                _text(row, "title"),
                _text(row, "summary", limit=MAX_SUMMARY),
                stages,
                _flag(row, "uncited"),
                row.where,
            )
        )


def _read_claims(root: Path, out: CuratedStatements, ids: dict[str, str]) -> None:
    """The claims §5.1 examines, with their verdicts (claims.csv)."""
    for row in read_table(
        root / CLAIMS,
        ["id", "number", "title", "summary", "verdict", "verdict_summary", "uncited"],
        display=CLAIMS,
    ):
        out.claims.append(
            Claim(
                _ident(row, "id", ids),
                _number(row, "number"),
                _text(row, "title"),
                _text(row, "summary", limit=MAX_SUMMARY),
                _choice(row, "verdict", VERDICTS),
                _text(row, "verdict_summary", limit=MAX_SUMMARY),
                _flag(row, "uncited"),
                row.where,
            )
        )


def _read_recommendations(root: Path, out: CuratedStatements, ids: dict[str, str]) -> None:
    """The recommendations of §5.2 (recommendations.csv)."""
    for row in read_table(
        root / RECOMMENDATIONS, ["id", "number", "title", "summary"], display=RECOMMENDATIONS
    ):
        out.recommendations.append(
            Recommendation(
                _ident(row, "id", ids),
                _number(row, "number"),
                _text(row, "title"),
                _text(row, "summary", limit=MAX_SUMMARY),
                row.where,
            )
        )


def _read_regulations(root: Path, out: CuratedStatements, ids: dict[str, str]) -> None:
    """The regulations Appendix B.1 surveys (regulations.csv)."""
    for row in read_table(
        root / REGULATIONS,
        [
            "id",
            "title",
            "short_title",
            "instrument",
            "jurisdiction",
            "issuing_body",
            "date",
            "status",
            "open_source_position",
            "section",
        ],
        display=REGULATIONS,
    ):
        date = row["date"].strip() or None
        if date and not _DATE.match(date):
            raise row.error(
                f"malformed date '{date}': expected YYYY or YYYY-MM", field="date", record=row["id"]
            )
        out.regulations.append(
            Regulation(
                _ident(row, "id", ids),
                _text(row, "title"),
                _text(row, "short_title"),
                _choice(row, "instrument", INSTRUMENTS),
                _text(row, "jurisdiction"),
                _text(row, "issuing_body", required=False),
                date,
                _text(row, "status", required=False, limit=MAX_SUMMARY),
                _text(row, "open_source_position", required=False, limit=MAX_SUMMARY),
                _section(row),
                row.where,
            )
        )


def _read_works(root: Path, out: CuratedStatements) -> dict[str, str]:
    """The cited works (cited-works.csv); returns their ids and records."""
    works: dict[str, str] = {}
    for row in read_table(
        root / WORKS, ["id", "authors", "year", "title", "identifier"], display=WORKS
    ):
        year_text = row["year"].strip()
        if not year_text:
            raise row.error(
                f"citation without year: give the year as cited, or '{NO_YEAR}' "
                "where the paper prints none",
                field="year",
                record=row["id"],
            )
        if year_text != NO_YEAR and not re.fullmatch(r"\d{4}", year_text):
            raise row.error(
                f"malformed year '{year_text}': expected four digits or {NO_YEAR}",
                field="year",
                record=row["id"],
            )
        out.works.append(
            CitedWork(
                _ident(row, "id", works),
                _text(row, "authors"),
                None if year_text == NO_YEAR else int(year_text),
                row["title"].strip(),
                row["identifier"].strip(),
                row.where,
            )
        )
    return works


def _read_citations(root: Path, out: CuratedStatements, works: dict[str, str]) -> None:
    """Who cites what, with its stance (citations.csv)."""
    seen_citations: dict[tuple[str, str], str] = {}
    for row in read_table(root / CITATIONS, ["citing", "cited", "stance"], display=CITATIONS):
        citing, cited = _text(row, "citing"), _text(row, "cited")
        if out.kind_of(citing) is None:
            raise row.error(
                f"'{citing}' is not a statement, claim, recommendation or regulation "
                f"of {STATEMENTS}, {CLAIMS}, {RECOMMENDATIONS} or {REGULATIONS}",
                field="citing",
                record=citing,
            )
        if cited not in works:
            raise row.error(f"'{cited}' is not a work of {WORKS}", field="cited", record=citing)
        key = (citing, cited)
        if key in seen_citations:
            raise row.error(
                f"duplicate citation (already at {seen_citations[key]})",
                field="cited",
                record=citing,
            )
        seen_citations[key] = row.where
        out.citations.append(Citation(citing, cited, _choice(row, "stance", STANCES), row.where))


def _read_links(root: Path, out: CuratedStatements, components: set[str]) -> None:
    """The curators' links between statements and components (links.csv)."""
    for row in read_table(root / LINKS, ["subject", "relation", "object", "basis"], display=LINKS):
        subject, relation, obj = (
            _text(row, "subject"),
            _choice(row, "relation", RELATIONS),
            _text(row, "object"),
        )
        if out.kind_of(subject) is None:
            raise row.error(
                f"'{subject}' is not a known statement, claim, recommendation or regulation",
                field="subject",
                record=subject,
            )
        if relation == "concerns-component":
            if obj not in components:
                raise row.error(
                    f"'{obj}' is not a pipeline component ({', '.join(sorted(components))})",
                    field="object",
                    record=subject,
                )
        elif out.kind_of(obj) not in ("statement", "claim"):
            raise row.error(
                f"'{obj}' is not a known statement or claim", field="object", record=subject
            )
        out.links.append(Link(subject, relation, obj, _text(row, "basis"), row.where))


def _read_alignments(root: Path, out: CuratedStatements) -> None:
    """Alignments to external vocabularies, if the file exists (alignments.csv)."""
    if not (root / ALIGNMENTS).exists():
        return
    for row in read_table(
        root / ALIGNMENTS,
        [
            "subject_id",
            "predicate_id",
            "object_id",
            "object_label",
            "mapping_justification",
            "author_id",
            "mapping_date",
            "comment",
        ],
        display=ALIGNMENTS,
    ):
        subject = _text(row, "subject_id")
        if out.kind_of(subject) is None:
            raise row.error(
                f"'{subject}' is not a known statement, claim or regulation",
                field="subject_id",
                record=subject,
            )
        obj = _text(row, "object_id")
        if problem := iri_problem(obj):
            raise row.error(problem, field="object_id", record=subject)
        date = _text(row, "mapping_date")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise row.error(
                f"malformed date '{date}': expected YYYY-MM-DD",
                field="mapping_date",
                record=subject,
            )
        out.alignments.append(
            Alignment(
                subject,
                _choice(row, "predicate_id", MAPPING_PREDICATES),
                obj,
                _text(row, "object_label", required=False),
                _text(row, "mapping_justification"),
                _text(row, "author_id"),
                date,
                _text(row, "comment", required=False),
                row.where,
            )
        )


def _check_uncited(out: CuratedStatements) -> None:
    """The 'uncited' mark and the citations must agree: a mark is a claim about the paper."""
    cited = {c.citing for c in out.citations}
    items: list[Statement | Claim] = [*out.statements, *out.claims]
    for item in items:
        if item.uncited and item.id in cited:
            raise error_at(
                item.record,
                f"marked uncited, but {CITATIONS} cites works for it",
                field="uncited",
                record=item.id,
            )
        if not item.uncited and item.id not in cited:
            raise error_at(
                item.record,
                f"has no citation in {CITATIONS}; mark it uncited=yes if "
                "the paper argues it without citing any work",
                field="uncited",
                record=item.id,
            )
