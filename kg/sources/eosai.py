"""Reading the European Open Source AI Index (EOSAI): one YAML file per model family.

Three schema generations are read, each kept as it is written (parameters are never renamed; the
crosswalk, `sources/curation/crosswalk.sssom.tsv`, says how they relate):

- current (since 2026-03): `system:` + `org:` + 12 parameters;
- 2025: the same plus `package` and `api` (14 parameters);
- "Opening up ChatGPT" (2023-2025): `project:` + `org:` + flat parameters `opencode`, `llmdata`,
  `llmweights`, `rldata`, `rlweights`, `license`, `code`, `architecture`, `preprint`, `paper`,
  `modelcard`, `datasheet`, `package`, `api`.

Each parameter is `{class: open | partial | closed | empty (not applicable), link: IRI or list,
notes}`. An unknown parameter is reported and left out; a file that is not a mapping, an unknown
class, a link that is not an absolute http(s) IRI or a second file for the same model is an error
naming the file, the record and the field, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import SourceError
from kg.sources.identity import check_record_slugs, normalise
from kg.sources.iri import iri_problem
from kg.sources.safe_yaml import load_file
from kg.sources.workspace import read_jsonl

SOURCE = "eosai"
IMPORT_FILE = "eosai.jsonl"
TITLE = "European Open Source AI Index"
UPSTREAM = "https://github.com/Language-Technology-Assessment/main-database"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = (
    "European Open Source AI Index, https://osai-index.eu/ (CC BY 4.0); Liesenfeld, A. and "
    "Dingemanse, M., 2024. Rethinking open source generative AI: open-washing and the EU AI Act. "
    "In Proceedings of the 2024 ACM Conference on Fairness, Accountability, and Transparency "
    "(pp. 1774-1787)."
)
TEMPLATE = "a_submission_template.yaml"

CURRENT = (
    "datasources_basemodel",
    "datasources_endmodel",
    "weights_basemodel",
    "weights_endmodel",
    "trainingcode",
    "code",
    "hardware_architecture",
    "preprint",
    "paper",
    "modelcard",
    "datasheet",
    "licenses",
)
GENERATION_2025 = (*CURRENT, "package", "api")
LEGACY = (
    "opencode",
    "llmdata",
    "llmweights",
    "rldata",
    "rlweights",
    "license",
    "code",
    "architecture",
    "preprint",
    "paper",
    "modelcard",
    "datasheet",
    "package",
    "api",
)
PARAMETERS = tuple(dict.fromkeys((*GENERATION_2025, *LEGACY)))  # every name, each once
CLASSES = ("open", "partial", "closed")
# what a system/project block may hold (kept as written); anything else is reported
SYSTEM_FIELDS = (
    "name",
    "link",
    "type",
    "performanceclass",
    "basemodelname",
    "endmodelname",
    "endmodellicense",
    "releasedate",
    "notes",
    # the predecessor's project block
    "llmbase",
    "rlbase",
    "license",
)
SYSTEM_ALIASES = {"endmodel license": "endmodellicense"}  # a spelling seen in 4 real files
ORG_FIELDS = ("name", "link", "notes")


@dataclass
class Judgment:
    parameter: str
    value: str  # open, partial, closed, or "" (not applicable)
    links: list[str]
    notes: str


@dataclass
class Record:
    file: str
    generation: str  # "2026" (12 parameters), "2025" (14) or "2023" (Opening up ChatGPT)
    system: dict[str, str]  # name, link, type, ... as written ('' when empty)
    org: dict[str, str]
    judgments: list[Judgment]
    links: dict[str, list[str]] = field(default_factory=dict)  # system.link, org.link -> IRIs
    texts: dict[str, list[str]] = field(default_factory=dict)  # the same, when not IRIs: as text

    @property
    def name(self) -> str:
        return self.system["name"]


@dataclass
class Reading:
    records: list[Record]
    reported: list[str]  # what was left out, with its reason: file, field, why


def is_iri(text: str) -> bool:
    """An absolute http(s) IRI that RDF accepts (no spaces, no javascript:)."""
    return iri_problem(text) is None


def read_eosai(folder: Path) -> Reading:
    """Read every model file (*.yaml, *.yml) of `folder`, skipping the submission template and the
    parameter definitions (files starting with `_`)."""
    if not folder.is_dir():
        raise SourceError(str(folder), "no such folder")
    files = sorted(
        p
        for p in [*folder.glob("*.yaml"), *folder.glob("*.yml")]
        if p.name != TEMPLATE and not p.name.startswith(("_", "."))
    )
    if not files:
        raise SourceError(str(folder), "no EOSAI model files (*.yaml) in the folder")
    reading = Reading([], [])
    seen: dict[str, str] = {}
    check_record_slugs(files)
    for path in files:
        record = read_record(path, reading.reported)
        key = normalise(record.name)
        if key in seen:
            raise SourceError(
                path.name,
                f"duplicate model: '{seen[key]}' already describes '{record.name}'",
                record=record.name,
                field="system.name",
            )
        seen[key] = path.name
        reading.records.append(record)
    return reading


def read_record(path: Path, reported: list[str]) -> Record:
    data = load_file(path)
    if not isinstance(data, dict):
        raise SourceError(path.name, "not a YAML mapping (expected system:, org: and parameters)")
    head = "system" if "system" in data else "project" if "project" in data else None
    if head is None:
        raise SourceError(path.name, "no 'system:' (or 'project:') block", field="system")
    system = _block(path, data[head], head, None, SYSTEM_FIELDS, reported)
    name = system.get("name", "")
    if not name:
        raise SourceError(path.name, "missing model name", field=f"{head}.name")
    org = _block(path, data.get("org") or {}, "org", name, ORG_FIELDS, reported)
    names = [k for k in data if k not in (head, "org")]
    allowed: tuple[str, ...]
    if head == "project":
        generation, allowed = "2023", LEGACY
    elif "package" in data or "api" in data:
        generation, allowed = "2025", GENERATION_2025
    else:
        generation, allowed = "2026", CURRENT
    judgments = []
    for key in names:
        if key not in allowed:
            reported.append(
                f"{path.name}: parameter '{key}' is not one of the {generation} schema's: left out"
            )
            continue
        judgments.append(_judgment(path, name, key, data[key]))
    record = Record(path.name, generation, system, org, judgments)
    for where, block in (("system", data[head]), ("org", data.get("org") or {})):
        raw = block.get("link")
        for link in raw if isinstance(raw, list) else [] if raw is None else [raw]:
            text = str(link).strip() if link is not None else ""
            if not text:
                continue
            if is_iri(text):
                record.links.setdefault(f"{where}.link", []).append(text)
            else:
                record.texts.setdefault(f"{where}.link", []).append(text)
                reported.append(
                    f"{path.name}: {where}.link '{text}' is not an absolute http(s) IRI: "
                    "kept as text"
                )
    return record


def _block(
    path: Path,
    block: Any,
    head: str,
    record: str | None,
    known: tuple[str, ...],
    reported: list[str],
) -> dict[str, str]:
    if not isinstance(block, dict):
        raise SourceError(path.name, f"'{head}' must be a mapping", record=record, field=head)
    out: dict[str, str] = {}
    for key, value in block.items():
        name = SYSTEM_ALIASES.get(key, key) if head != "org" else key
        if name == "link":
            continue  # read apart: one link or a list of them
        if name not in known:
            reported.append(f"{path.name}: field '{head}.{key}' is not in the schema: left out")
            continue
        if isinstance(value, dict | list):
            raise SourceError(
                path.name,
                "expected a single value",
                record=record or str(block.get("name", "")),
                field=f"{head}.{key}",
            )
        out[name] = "" if value is None else str(value).strip()
    return out


def _judgment(path: Path, record: str, key: str, value: Any) -> Judgment:
    if not isinstance(value, dict):
        raise SourceError(
            path.name, "must be a mapping with class, link and notes", record=record, field=key
        )
    unknown = sorted(set(value) - {"class", "link", "notes"})
    if unknown:
        raise SourceError(
            path.name, f"unknown field '{unknown[0]}'", record=record, field=f"{key}.{unknown[0]}"
        )
    cls = value.get("class")
    cls = "" if cls is None else str(cls).strip()
    if cls and cls not in CLASSES:
        raise SourceError(
            path.name,
            f"unknown class '{cls}' (expected open, partial, closed or empty)",
            record=record,
            field=f"{key}.class",
        )
    raw = value.get("link")
    links = raw if isinstance(raw, list) else [] if raw is None else [raw]
    checked = []
    for i, link in enumerate(links):
        where = f"{key}.link" + (f"[{i}]" if isinstance(raw, list) else "")
        if link is None or (isinstance(link, str) and not link.strip()):
            continue
        if not isinstance(link, str) or not is_iri(link.strip()):
            raise SourceError(
                path.name,
                f"'{link}' is not an absolute http(s) IRI",
                record=record,
                field=where,
            )
        checked.append(link.strip())
    notes = value.get("notes")
    return Judgment(key, cls, checked, "" if notes is None else str(notes).strip())


def load_imported(path: Path) -> list[Record]:
    """The records of an import (the build's view); a broken line is named."""
    return read_jsonl(path, _record)


def _record(data: dict[str, Any]) -> Record:
    data["judgments"] = [Judgment(**x) for x in data["judgments"]]
    return Record(**data)
