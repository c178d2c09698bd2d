"""Curated sources -> checked records. Every problem names the file, line, record and field.

The loader checks form and references only (notations, numbers, dates, known licenses, models and
components). Whether the paper's facts agree with its own rules is never judged here: those are
findings for validation and the consistency report, not reasons to refuse the paper's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from kg.errors import SourceError
from kg.sources import notation as n
from kg.sources.csvio import IDENTIFIER, Row, error_at, read_table
from kg.sources.licenses import ALIASES, Alias, License, read_aliases, read_licenses
from kg.vocab.ontology import Vocabulary

T = TypeVar("T")

TABLE1 = "paper/table1.csv"
TABLE2 = "paper/table2.csv"
TABLE3 = "paper/table3.csv"
LICENSES = "curation/licenses.csv"
ORGANISATIONS = "curation/organisations.csv"
SOURCE_FILES = (TABLE1, TABLE2, TABLE3, LICENSES, ALIASES, ORGANISATIONS)


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str | None  # local name of a gao:OrganisationKind, or None when unknown
    kind_basis: str
    record: str


@dataclass(frozen=True)
class LicenseEvaluation:
    row_label: str
    row: int
    answers: dict[str, bool]  # criterion notation -> granted
    qualifications: dict[str, str]  # criterion notation -> footnote text
    score: int
    category: str  # IRI of the restrictiveness category named
    code_level: str | None  # None where Table 1 writes N/A
    data_level: str | None
    licenses: tuple[str, ...]  # ids of the licenses the row covers
    record: str


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    table3_label: str
    row: int
    developer_as_written: str
    developers: tuple[str, ...]  # organisation ids
    size: int | None
    release_month: str
    metrics: dict[str, int | None]  # metric notation -> value (None: N/A)
    record: str


@dataclass(frozen=True)
class Assessment:
    model: str
    component: str
    row: int
    cell: n.Cell
    licenses: tuple[str, ...]  # license ids
    record: str


@dataclass
class CuratedSources:
    organisations: list[Organisation] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    evaluations: list[LicenseEvaluation] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)


def _parse(row: Row, column: str, parser: Callable[[str], T]) -> T:
    try:
        return parser(row[column])
    except ValueError as exc:
        raise row.error(str(exc), field=column, record=_record_name(row)) from None


def _record_name(row: Row) -> str:
    for key in ("id", "model", "license"):
        if key in row.values and row.values[key].strip():
            return row.values[key].strip()
    return f"row {row.index}"


def _require(row: Row, column: str) -> str:
    value = row[column].strip()
    if not value:
        raise row.error("must not be empty", field=column, record=_record_name(row))
    return value


def _slug(row: Row, column: str) -> str:
    value = _require(row, column)
    if not IDENTIFIER.match(value):
        raise row.error(
            f"'{value}' is not a lower-case kebab-case identifier",
            field=column,
            record=_record_name(row),
        )
    return value


def load_sources(root: Path, vocab: Vocabulary) -> CuratedSources:
    """Read and check every curated table under `root`."""
    out = CuratedSources()
    out.organisations = _organisations(root, vocab)
    out.licenses = read_licenses(root)
    out.aliases = read_aliases(root, out.licenses)
    out.evaluations = _table1(root, vocab, out.licenses)
    out.models = _table2(root, vocab, out.organisations)
    out.assessments = _table3(root, vocab, out.models, out.licenses)
    return out


def _organisations(root: Path, vocab: Vocabulary) -> list[Organisation]:
    kinds = {c.slug for c in vocab.organisation_kinds}
    rows = read_table(
        root / ORGANISATIONS, ["id", "name", "kind", "kind_basis"], display=ORGANISATIONS
    )
    seen: dict[str, int] = {}
    names: dict[str, int] = {}
    result = []
    for row in rows:
        oid = _slug(row, "id")
        name = _require(row, "name")
        if oid in seen:
            raise row.error(
                f"duplicate organisation id (first on line {seen[oid]})", field="id", record=oid
            )
        if name in names:
            raise row.error(
                f"duplicate organisation name (first on line {names[name]})",
                field="name",
                record=oid,
            )
        seen[oid] = names[name] = row.line
        kind = row["kind"].strip() or None
        if kind is not None and kind not in kinds:
            raise row.error(
                f"unknown organisation kind '{kind}' (expected one of {', '.join(sorted(kinds))}, "
                "or empty when unknown)",
                field="kind",
                record=oid,
            )
        basis = _require(row, "kind_basis")
        result.append(Organisation(oid, name, kind, basis, row.where))
    return result


def _table1(root: Path, vocab: Vocabulary, licenses: list[License]) -> list[LicenseEvaluation]:
    criteria = [c.notation for c in vocab.criteria if c.notation]
    columns = ["license", *criteria, "final_score", "code_openness", "data_openness", "footnotes"]
    rows = read_table(root / TABLE1, columns, display=TABLE1)
    categories = {c.label.lower(): c.iri for c in vocab.restrictiveness}
    by_row: dict[str, list[str]] = {}
    for lic in licenses:
        if lic.table1_row:
            by_row.setdefault(lic.table1_row, []).append(lic.id)
    seen: dict[str, int] = {}
    result = []
    for row in rows:
        label = _require(row, "license")
        if label in seen:
            raise row.error(
                f"duplicate license row (first on line {seen[label]})",
                field="license",
                record=label,
            )
        seen[label] = row.line
        answers = {c: _parse(row, c, n.parse_yes_no) for c in criteria}
        score, category = _parse(row, "final_score", n.parse_score)
        if category.lower() not in categories:
            raise row.error(
                f"unknown restrictiveness category '{category}' (expected one of "
                f"{', '.join(sorted(categories))})",
                field="final_score",
                record=label,
            )
        code = _parse(row, "code_openness", n.parse_level)
        data = _parse(row, "data_openness", n.parse_level)
        if code is not None and not code.startswith("C"):
            raise row.error(
                f"'{code}' is a data level in the code column", field="code_openness", record=label
            )
        if data is None or not data.startswith("D"):
            raise row.error(
                f"expected a data level D1-D5, found '{row['data_openness']}'",
                field="data_openness",
                record=label,
            )
        qualifications: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in row["footnotes"].split("|"))):
            crit, sep, text = part.partition(":")
            if not sep or crit.strip() not in criteria or not text.strip():
                raise row.error(
                    f"footnote '{part}' must read 'criterion: text' with a criterion among "
                    f"{', '.join(criteria)}",
                    field="footnotes",
                    record=label,
                )
            qualifications[crit.strip()] = text.strip()
        covered = by_row.get(label)
        if not covered:
            raise row.error(
                f"no license in {LICENSES} names this row in its table1_row column",
                field="license",
                record=label,
            )
        result.append(
            LicenseEvaluation(
                label,
                row.index,
                answers,
                qualifications,
                score,
                categories[category.lower()],
                code,
                data,
                tuple(covered),
                row.where,
            )
        )
    rows_named = {lic.table1_row for lic in licenses if lic.table1_row}
    unknown = sorted(rows_named - set(seen))
    if unknown:
        lic = next(x for x in licenses if x.table1_row == unknown[0])
        raise error_at(
            lic.record,
            f"table1_row '{unknown[0]}' is not a row of {TABLE1}",
            field="table1_row",
            record=lic.id,
        )
    return result


def _table2(root: Path, vocab: Vocabulary, orgs: list[Organisation]) -> list[Model]:
    metrics = [c.notation for c in vocab.metrics if c.notation]
    columns = ["id", "model", "table3_label", "developer", "largest_size", "release_date", *metrics]
    rows = read_table(root / TABLE2, columns, display=TABLE2)
    org_by_name = {o.name: o.id for o in orgs}
    ids: dict[str, int] = {}
    names: dict[str, int] = {}
    result = []
    for row in rows:
        mid = _slug(row, "id")
        name = _require(row, "model")
        if mid in ids:
            raise row.error(
                f"duplicate model id (first on line {ids[mid]})", field="id", record=mid
            )
        if name in names:
            raise row.error(
                f"duplicate model '{name}' (first on line {names[name]})", field="model", record=mid
            )
        ids[mid] = names[name] = row.line
        written = _require(row, "developer")
        developers = []
        for dev in (d.strip() for d in written.split(",")):
            if dev not in org_by_name:
                raise row.error(
                    f"unknown developer '{dev}': add it to {ORGANISATIONS}",
                    field="developer",
                    record=mid,
                )
            developers.append(org_by_name[dev])
        result.append(
            Model(
                id=mid,
                name=name,
                table3_label=row["table3_label"].strip() or name,
                row=row.index,
                developer_as_written=written,
                developers=tuple(developers),
                size=_parse(row, "largest_size", n.parse_size),
                release_month=_parse(row, "release_date", n.parse_month),
                metrics={m: _parse(row, m, n.parse_count) for m in metrics},
                record=row.where,
            )
        )
    return result


def _table3(
    root: Path, vocab: Vocabulary, models: list[Model], licenses: list[License]
) -> list[Assessment]:
    components = list(vocab.components)
    rows = read_table(root / TABLE3, ["model", *components], display=TABLE3)
    by_label = {m.table3_label: m for m in models}
    by_notation = {lic.notation: lic for lic in licenses if lic.notation}
    seen: dict[str, int] = {}
    result = []
    for row in rows:
        label = _require(row, "model")
        if label in seen:
            raise row.error(
                f"duplicate model '{label}' (first on line {seen[label]})",
                field="model",
                record=label,
            )
        seen[label] = row.line
        model = by_label.get(label)
        if model is None:
            raise row.error(
                f"model '{label}' is not in {TABLE2} (match its 'model' or 'table3_label')",
                field="model",
                record=label,
            )
        for comp in components:
            cell = _parse(row, comp, n.parse_cell)
            kind = vocab.components[comp][1]
            levels = [cell.level] if cell.level else list(cell.candidates)
            for level in levels:
                if level[0] != kind:
                    what = "code" if kind == "C" else "data"
                    raise row.error(
                        f"'{cell.notation}' puts a {'data' if kind == 'C' else 'code'} level on "
                        f"a {what} component (use {kind}1-{kind}5)",
                        field=comp,
                        record=label,
                    )
            ids = []
            for name in cell.licenses:
                lic = by_notation.get(name)
                if lic is None:
                    raise row.error(
                        f"unknown license '{name}' in '{cell.notation}': add it to {LICENSES}",
                        field=comp,
                        record=label,
                    )
                ids.append(lic.id)
            result.append(Assessment(model.id, comp, row.index, cell, tuple(ids), row.where))
    missing = [m.name for m in models if m.table3_label not in seen]
    if missing:
        raise SourceError(
            TABLE3,
            f"no row for model(s) {', '.join(missing)} of {TABLE2}",
            field="model",
            record=missing[0],
        )
    return result
