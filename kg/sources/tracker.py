"""Import of the paper's online tracker: one Markdown file per model with YAML front matter.

Front matter: `title`, `link`, `release: {month, year}`, then `training` / `evaluation` /
`deployment` -> `code` / `data` -> component -> `{value: 1-5 | N/A | Unknown, license: ...}`.
`kg import tracker DIR` checks every file, matches each model to the paper's by name, and writes
the normalised cells to `<workspace>/imports/tracker.csv` (atomically), which `kg build` loads into
its own named graph `graph/imports/tracker`. Models it cannot match are reported, not guessed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import SourceError
from kg.sources.csvio import Row, read_table
from kg.sources.iri import iri_problem
from kg.sources.safe_yaml import loads

IMPORT_FILE = "imports/tracker.csv"
COLUMNS = ["file", "title", "link", "release", "model", "component", "value", "license"]
# tracker path (stage, kind, name) -> our component identifier
COMPONENTS = {
    ("training", "code", "pretraining"): "pretraining-code",
    ("training", "code", "finetuning"): "finetuning-code",
    ("training", "code", "alignment"): "alignment-code",
    ("training", "data", "pretraining"): "pretraining-data",
    ("training", "data", "sft"): "sft-data",
    ("training", "data", "alignment"): "alignment-data",
    ("evaluation", "code", "general"): "general-eval-code",
    ("evaluation", "code", "safety"): "safety-eval-code",
    ("evaluation", "data", "utility"): "utility-benchmark-data",
    ("evaluation", "data", "safety"): "safety-eval-data",
    ("deployment", "code", "inference"): "inference-code",
    ("deployment", "data", "weights"): "weights",
}
VALUES = {"1", "2", "3", "4", "5", "N/A", "Unknown"}


@dataclass(frozen=True)
class TrackerCell:
    file: str
    title: str
    link: str
    release: str  # YYYY-MM or ""
    model: str  # the matched model id
    component: str
    value: str  # 1-5, N/A or Unknown
    license: str


@dataclass
class ImportResult:
    cells: list[TrackerCell]
    matched: dict[str, str]  # file -> model id
    unmatched: dict[str, str]  # file -> title


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def front_matter(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(path.name, "not valid UTF-8 text") from None
    if not text.startswith("---"):
        raise SourceError(path.name, "no YAML front matter (the file must start with ---)", line=1)
    end = text.find("\n---", 3)
    if end < 0:
        raise SourceError(path.name, "the front matter is not closed by a --- line")
    data = loads(text[3:end], path.name)  # limits: a hostile file fails fast
    if not isinstance(data, dict):
        raise SourceError(path.name, "the front matter is not a YAML mapping")
    return data


def read_tracker(folder: Path, models: dict[str, str]) -> ImportResult:
    """Read every *.md file of `folder`. `models` maps normalised names to model ids."""
    if not folder.is_dir():
        raise SourceError(str(folder), "no such folder")
    files = sorted(folder.glob("*.md"))
    if not files:
        raise SourceError(str(folder), "no tracker files (*.md) in the folder")
    result = ImportResult([], {}, {})
    for path in files:
        data = front_matter(path)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise SourceError(path.name, "missing 'title'", field="title")
        release = _release(path, data.get("release"))
        link = str(data.get("link") or "").strip()
        if link and (problem := iri_problem(link)):  # a javascript: link is refused here
            raise SourceError(path.name, problem, record=title, field="link")
        model = models.get(normalise(title))
        if model is None:
            result.unmatched[path.name] = title
            continue
        result.matched[path.name] = model
        for (stage, kind, name), component in COMPONENTS.items():
            cell = ((data.get(stage) or {}).get(kind) or {}).get(name)
            where = f"{stage}.{kind}.{name}"
            if cell is None:
                raise SourceError(
                    path.name, f"missing component {where}", record=title, field=where
                )
            if not isinstance(cell, dict) or "value" not in cell:
                raise SourceError(
                    path.name,
                    f"{where} must be a mapping with a 'value'",
                    record=title,
                    field=where,
                )
            value = str(cell["value"]).strip()
            if value not in VALUES:
                raise SourceError(
                    path.name,
                    f"unknown value '{value}' (expected 1-5, N/A or Unknown)",
                    record=title,
                    field=f"{where}.value",
                )
            license_text = cell.get("license") or ""
            result.cells.append(
                TrackerCell(
                    path.name,
                    title.strip(),
                    link,
                    release,
                    model,
                    component,
                    value,
                    str(license_text).strip(),
                )
            )
    return result


def _release(path: Path, release: Any) -> str:
    if release is None:
        return ""
    if not isinstance(release, dict) or "year" not in release:
        raise SourceError(
            path.name, "'release' must be a mapping with 'year' (and 'month')", field="release"
        )
    try:
        year = int(release["year"])
        month = int(release.get("month", 0) or 0)
    except (TypeError, ValueError):
        raise SourceError(path.name, f"malformed release {release!r}", field="release") from None
    if not 1900 <= year <= 2100 or not 0 <= month <= 12:
        raise SourceError(path.name, f"malformed release {release!r}", field="release")
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


def to_csv(result: ImportResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in result.cells:
        writer.writerow(
            [c.file, c.title, c.link, c.release, c.model, c.component, c.value, c.license]
        )
    return out.getvalue()


def load_imported(root: Path, components: set[str], models: set[str]) -> list[TrackerCell]:
    """The imported cells, if an import exists (the build's view)."""
    path = root / IMPORT_FILE
    if not path.exists():
        return []
    cells = []
    for row in read_table(path, COLUMNS, display=IMPORT_FILE):
        cells.append(_checked(row, components, models))
    return cells


def _checked(row: Row, components: set[str], models: set[str]) -> TrackerCell:
    if row["component"] not in components:
        raise row.error(f"unknown component '{row['component']}'", field="component")
    if row["model"] not in models:
        raise row.error(f"unknown model '{row['model']}'", field="model")
    if row["value"] not in VALUES:
        raise row.error(f"unknown value '{row['value']}'", field="value")
    if row["link"] and (problem := iri_problem(row["link"])):
        raise row.error(problem, field="link", record=row["file"])
    return TrackerCell(*(row[c] for c in COLUMNS))
