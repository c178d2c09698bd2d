"""The Foundation Model Transparency Index (Stanford CRFM, `stanford-crfm/fmti`): three editions,
each scoring developers on 100 indicators (0 or 1) about their flagship model.

A clone or snapshot of the repository holds, per edition:

    October2023/October2023_scores.csv   Domain, Subdomain, Indicator, one column per developer,
                                         Total; a last row 'Total'
    May2024/May2024_scores.csv           Indicator, one column per developer; a last row 'Total'
    May2024/reports/<Developer>_fmtransparencyreport[_-]May2024.csv
                                         Indicator, Definition, Notes, Disclosure, References,
                                         Score, Justification, New disclosure?
    Dec2025/Dec2025_scores.csv           Indicator, one column per developer (no total)
    Dec2025/Dec2025_indicators.csv       Domain, Subdomain, Indicator, Definition, Notes, ...
    Dec2025/reports/<Developer>_fmtransparencyreport_Dec2025.csv
                                         Indicator, Definition, Notes, Disclosure,
                                         Justification, References, Score
    fmti-indicators.csv                  Domain, Subdomain, Indicator, Definition, Notes, ...
                                         (the repository's indicator list)

Everything is kept as the files state it: indicator names per edition as that edition writes
them (editions differ in spelling and in some indicators), the score of the scores file (a
report whose score differs is reported, not used), the stated total where the edition gives one.
An indicator's domain, subdomain and definition come from the edition's own files, or from
`fmti-indicators.csv` when the name is exactly the same; otherwise they are left out and reported.
Developers are linked to the graph's organisations, and flagship models to its models, only by
exact normalised name (`sources/curation/fmti-flagships.csv` names the flagship models the
upstream files name); what is not matched is listed, never guessed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import SourceError
from kg.sources.csvio import Row, read_table

TITLE = "Foundation Model Transparency Index"
UPSTREAM = "https://github.com/stanford-crfm/fmti"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = (
    "Rishi Bommasani, Kevin Klyman, Sayash Kapoor, Shayne Longpre, Betty Xiong, Nestor Maslej, "
    "Percy Liang. The Foundation Model Transparency Index. Stanford CRFM, "
    "https://crfm.stanford.edu/fmti/ (data CC BY 4.0)"
)
FLAGSHIPS = "curation/fmti-flagships.csv"
IMPORT_FILE = "imports/fmti.csv"
INDICATOR_FILE = "imports/fmti-indicators.csv"
SCORE_COLUMNS = [
    "edition",
    "developer",
    "organisation",
    "model",
    "model_id",
    "indicator",
    "score",
    "disclosure",
    "justification",
    "references",
    "stated_total",
    "file",
    "line",
]
INDICATOR_COLUMNS = ["edition", "indicator", "domain", "subdomain", "definition", "notes", "file"]


@dataclass(frozen=True)
class Edition:
    key: str  # 2023, 2024, 2025
    folder: str
    scores: str
    indicators: str | None  # the edition's own indicator file, if any
    month: str  # YYYY-MM of publication


EDITIONS = (
    Edition("2023", "October2023", "October2023_scores.csv", None, "2023-10"),
    Edition("2024", "May2024", "May2024_scores.csv", None, "2024-05"),
    Edition("2025", "Dec2025", "Dec2025_scores.csv", "Dec2025_indicators.csv", "2025-12"),
)
REPO_INDICATORS = "fmti-indicators.csv"


@dataclass(frozen=True)
class Indicator:
    edition: str
    name: str
    domain: str = ""
    subdomain: str = ""
    definition: str = ""
    notes: str = ""
    file: str = ""  # where the definition was read


@dataclass(frozen=True)
class Score:
    edition: str
    developer: str  # as the scores file writes it
    indicator: str
    score: int
    disclosure: str = ""
    justification: str = ""
    references: str = ""
    file: str = ""
    line: int = 0


@dataclass
class FmtiData:
    indicators: list[Indicator] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    totals: dict[tuple[str, str], int] = field(default_factory=dict)  # (edition, developer)
    reports: dict[tuple[str, str], str] = field(default_factory=dict)  # -> report file
    notes: list[str] = field(default_factory=list)  # what was not used, and why

    def developers(self) -> list[tuple[str, str]]:
        return sorted({(s.edition, s.developer) for s in self.scores})


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _table(path: Path, display: str) -> list[list[str]]:
    """A CSV file as rows of cells (header included); BOM and CRLF tolerated."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(display, "missing: is this a clone of stanford-crfm/fmti?") from None
    except UnicodeDecodeError as exc:
        raise SourceError(display, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SourceError(display, f"malformed CSV ({exc})") from None
    if not rows:
        raise SourceError(display, "empty file")
    return rows


def _score(value: str, display: str, line: int, developer: str, indicator: str) -> int:
    if value.strip() not in ("0", "1"):
        raise SourceError(
            display,
            f"score '{value}' is not 0 or 1",
            line=line,
            record=developer,
            field=indicator,
        )
    return int(value)


def read_fmti(folder: Path) -> FmtiData:
    """Read the three editions of a clone or snapshot of the FMTI repository."""
    if not folder.is_dir():
        raise SourceError(str(folder), "no such folder")
    data = FmtiData()
    repo = _repo_indicators(folder)
    for edition in EDITIONS:
        _read_edition(folder, edition, repo, data)
    return data


def _repo_indicators(folder: Path) -> dict[str, Indicator]:
    path = folder / REPO_INDICATORS
    if not path.exists():
        return {}
    rows = _table(path, REPO_INDICATORS)
    head = [h.strip() for h in rows[0]]
    out = {}
    for cells in rows[1:]:
        r = dict(zip(head, cells, strict=False))
        name = r.get("Indicator", "").strip()
        if name:
            out[name] = Indicator(
                "",
                name,
                r.get("Domain", "").strip(),
                r.get("Subdomain", "").strip(),
                r.get("Definition", "").strip(),
                r.get("Notes", "").strip(),
                REPO_INDICATORS,
            )
    return out


def _read_edition(folder: Path, ed: Edition, repo: dict[str, Indicator], data: FmtiData) -> None:
    display = f"{ed.folder}/{ed.scores}"
    rows = _table(folder / ed.folder / ed.scores, display)
    head = [h.strip() for h in rows[0]]
    if "Indicator" not in head:
        raise SourceError(display, "no 'Indicator' column", line=1, field="Indicator")
    col = head.index("Indicator")
    meta = {"Domain", "Subdomain", "Indicator", "Total", ""}
    developers = [(i, h) for i, h in enumerate(head) if h not in meta]
    if not developers:
        raise SourceError(display, "no developer columns", line=1)
    own: dict[str, dict[str, str]] = {}
    if ed.indicators:
        ind_display = f"{ed.folder}/{ed.indicators}"
        ind_rows = _table(folder / ed.folder / ed.indicators, ind_display)
        ih = [h.strip() for h in ind_rows[0]]
        for cells in ind_rows[1:]:
            r = dict(zip(ih, cells, strict=False))
            if r.get("Indicator", "").strip():
                own[r["Indicator"].strip()] = r | {"_file": ind_display}
    reports = _reports(folder, ed, [h for _, h in developers], data)
    names: list[str] = []
    for line, cells in enumerate(rows[1:], start=2):
        cells = cells + [""] * (len(head) - len(cells))
        name = cells[col].strip()
        if not name:
            continue
        if name == "Total":
            for i, dev in developers:
                total = cells[i].strip()
                if not total.isdigit():
                    raise SourceError(
                        display, f"total '{total}' is not a number", line=line, record=dev
                    )
                data.totals[(ed.key, dev)] = int(total)
            continue
        if name in names:
            raise SourceError(display, "indicator listed twice", line=line, record=name)
        names.append(name)
        r = dict(zip(head, cells, strict=False))
        data.indicators.append(_indicator(ed, name, r, own, repo, reports, data))
    unused = sorted({n for rep in reports.values() for n in rep} - set(names))
    if unused:
        data.notes.append(
            f"{ed.key} reports: indicator name(s) the scores file does not use, their disclosures "
            f"not imported: {', '.join(unused)}"
        )
    for line, cells in enumerate(rows[1:], start=2):
        cells = cells + [""] * (len(head) - len(cells))
        name = cells[col].strip()
        if not name or name == "Total":
            continue
        for i, dev in developers:
            report = reports.get(dev, {}).get(name, {})
            score = _score(cells[i], display, line, dev, name)
            stated = report.get("Score", "").strip()
            if stated and stated != str(score):
                data.notes.append(
                    f"{ed.key} {dev}, '{name}': the report says {stated}, the scores file "
                    f"{score}; the scores file's value is used"
                )
            data.scores.append(
                Score(
                    ed.key,
                    dev,
                    name,
                    score,
                    report.get("Disclosure", "").strip(),
                    report.get("Justification", "").strip(),
                    report.get("References", "").strip(),
                    display,
                    line,
                )
            )


def _indicator(
    ed: Edition,
    name: str,
    row: dict[str, str],
    own: dict[str, dict[str, str]],
    repo: dict[str, Indicator],
    reports: dict[str, dict[str, dict[str, str]]],
    data: FmtiData,
) -> Indicator:
    """The edition's own description of an indicator, else the repository's of the same name."""
    if name in own:
        r = own[name]
        return Indicator(
            ed.key,
            name,
            r.get("Domain", "").strip(),
            r.get("Subdomain", "").strip(),
            r.get("Definition", "").strip(),
            r.get("Notes", "").strip(),
            r["_file"],
        )
    domain, subdomain = row.get("Domain", "").strip(), row.get("Subdomain", "").strip()
    from_report = next((rep[name] for rep in reports.values() if name in rep), None)
    if from_report and from_report.get("Definition", "").strip():
        general = repo.get(name)
        return Indicator(
            ed.key,
            name,
            domain or (general.domain if general else ""),
            subdomain or (general.subdomain if general else ""),
            from_report["Definition"].strip(),
            from_report.get("Notes", "").strip(),
            from_report["_file"],
        )
    general = repo.get(name)
    if general is None:
        data.notes.append(f"{ed.key} indicator '{name}': no definition in the edition's files")
        return Indicator(ed.key, name, domain, subdomain)
    return Indicator(
        ed.key,
        name,
        domain or general.domain,
        subdomain or general.subdomain,
        general.definition,
        general.notes,
        general.file,
    )


def _reports(
    folder: Path, ed: Edition, developers: list[str], data: FmtiData
) -> dict[str, dict[str, dict[str, str]]]:
    """developer (as in the scores file) -> indicator -> report row. A report file belongs to the
    one developer whose normalised name starts its normalised file name; others are noted."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    folder = folder / ed.folder / "reports"
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.csv")):
        stem = path.name.split("_fmtransparencyreport")[0]
        key = normalise(stem)
        owners = [d for d in developers if key.startswith(normalise(d))]
        if len(owners) != 1:
            data.notes.append(
                f"{ed.key} report {path.name}: matches {len(owners)} developer columns; not used"
            )
            continue
        display = f"{ed.folder}/reports/{path.name}"
        rows = _table(path, display)
        head = [h.strip() for h in rows[0]]
        if "Disclosure" not in head or "Score" not in head:
            raise SourceError(display, "no 'Disclosure' and 'Score' columns", line=1)
        table = {}
        for cells in rows[1:]:  # the first column holds the indicator, whatever its header
            name = cells[0].strip() if cells else ""
            if name:
                table[name] = dict(zip(head[1:], cells[1:], strict=False)) | {"_file": display}
        out[owners[0]] = table
        data.reports[(ed.key, owners[0])] = display
    return out


@dataclass(frozen=True)
class Flagship:
    edition: str
    developer: str
    model: str
    basis: str


def load_flagships(root: Path) -> list[Flagship]:
    """The curated flagship models (edition, developer, model, basis)."""
    path = root / FLAGSHIPS
    if not path.exists():
        return []
    out = []
    for row in read_table(path, ["edition", "developer", "model", "basis"], display=FLAGSHIPS):
        if row["edition"] not in {e.key for e in EDITIONS}:
            raise row.error(f"unknown edition '{row['edition']}'", field="edition")
        for column in ("developer", "model", "basis"):
            if not row[column].strip():
                raise row.error(f"empty {column}", field=column, record=row["developer"])
        out.append(Flagship(row["edition"], row["developer"], row["model"], row["basis"]))
    return out


@dataclass
class Links:
    organisations: dict[str, str]  # developer -> organisation id
    models: dict[tuple[str, str], tuple[str, str]]  # (edition, developer) -> (model, model id)
    unmatched: list[str]


def link(
    data: FmtiData,
    organisations: dict[str, str],
    models: dict[str, str],
    flagships: list[Flagship],
) -> Links:
    """Match developers to organisations and flagship models to models by exact normalised name
    (`organisations` and `models` map normalised names to ids). Nothing else is guessed."""
    out = Links({}, {}, [])
    for dev in sorted({d for _, d in data.developers()}):
        org = organisations.get(normalise(dev))
        if org:
            out.organisations[dev] = org
        else:
            out.unmatched.append(f"developer '{dev}': no organisation of that name in the graph")
    known = set(data.developers())
    for f in flagships:
        if (f.edition, f.developer) not in known:
            out.unmatched.append(
                f"flagship {f.model} ({f.edition}, {f.developer}): no such developer in the edition"
            )
            continue
        mid = models.get(normalise(f.model), "")
        out.models[(f.edition, f.developer)] = (f.model, mid)
        if not mid:
            out.unmatched.append(
                f"flagship model '{f.model}' ({f.edition}, {f.developer}): no "
                "model of that name in the graph"
            )
    for edition, dev in sorted(known - set(out.models)):
        out.unmatched.append(f"{edition} {dev}: the files do not name the flagship model")
    return out


def to_csv(data: FmtiData, links: Links) -> tuple[str, str]:
    """(scores CSV, indicators CSV) for the workspace."""
    scores = io.StringIO()
    w = csv.writer(scores, lineterminator="\n")
    w.writerow(SCORE_COLUMNS)
    for s in data.scores:
        model, mid = links.models.get((s.edition, s.developer), ("", ""))
        total = data.totals.get((s.edition, s.developer))
        w.writerow(
            [
                s.edition,
                s.developer,
                links.organisations.get(s.developer, ""),
                model,
                mid,
                s.indicator,
                s.score,
                s.disclosure,
                s.justification,
                s.references,
                "" if total is None else total,
                s.file,
                s.line,
            ]
        )
    ind = io.StringIO()
    w = csv.writer(ind, lineterminator="\n")
    w.writerow(INDICATOR_COLUMNS)
    for i in data.indicators:
        w.writerow([i.edition, i.name, i.domain, i.subdomain, i.definition, i.notes, i.file])
    return scores.getvalue(), ind.getvalue()


@dataclass(frozen=True)
class ImportedScore:
    edition: str
    developer: str
    organisation: str
    model: str
    model_id: str
    indicator: str
    score: int
    disclosure: str
    justification: str
    references: str
    stated_total: int | None
    where: str  # upstream file:line


@dataclass
class Imported:
    scores: list[ImportedScore]
    indicators: list[Indicator]


def load_imported(root: Path, organisations: set[str], models: set[str]) -> Imported | None:
    """The workspace's FMTI import (the build's view), checked row by row; None if absent."""
    path, ind_path = root / IMPORT_FILE, root / INDICATOR_FILE
    if not path.exists():
        return None
    if not ind_path.exists():
        raise SourceError(INDICATOR_FILE, "missing beside imports/fmti.csv: run kg import fmti")
    indicators = []
    known: set[tuple[str, str]] = set()
    for row in read_table(ind_path, INDICATOR_COLUMNS, display=INDICATOR_FILE):
        _edition(row)
        key = (row["edition"], row["indicator"])
        if not row["indicator"] or key in known:
            raise row.error("empty or repeated indicator", field="indicator")
        known.add(key)
        indicators.append(Indicator(*(row[c] for c in INDICATOR_COLUMNS)))
    scores = []
    for row in read_table(path, SCORE_COLUMNS, display=IMPORT_FILE):
        _edition(row)
        record = f"{row['edition']} {row['developer']}"
        if (row["edition"], row["indicator"]) not in known:
            raise row.error(
                f"unknown indicator '{row['indicator']}'", field="indicator", record=record
            )
        if row["score"] not in ("0", "1"):
            raise row.error(f"score '{row['score']}' is not 0 or 1", field="score", record=record)
        if row["organisation"] and row["organisation"] not in organisations:
            raise row.error(
                f"unknown organisation '{row['organisation']}'", field="organisation", record=record
            )
        if row["model_id"] and row["model_id"] not in models:
            raise row.error(f"unknown model '{row['model_id']}'", field="model_id", record=record)
        total = row["stated_total"]
        if total and not total.isdigit():
            raise row.error(f"total '{total}' is not a number", field="stated_total", record=record)
        scores.append(
            ImportedScore(
                row["edition"],
                row["developer"],
                row["organisation"],
                row["model"],
                row["model_id"],
                row["indicator"],
                int(row["score"]),
                row["disclosure"],
                row["justification"],
                row["references"],
                int(total) if total else None,
                f"{row['file']}:{row['line']}",
            )
        )
    return Imported(scores, indicators)


def _edition(row: Row) -> None:
    if row["edition"] not in {e.key for e in EDITIONS}:
        raise row.error(f"unknown edition '{row['edition']}'", field="edition")
