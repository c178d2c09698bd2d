"""The workspace: where `kg import` and `kg link` write, and where `kg build` reads imports.

    kg-workspace/                      ($KG_WORKSPACE, or --workspace; default ./kg-workspace)
      imports/tracker.csv              normalised records of one source, written atomically
      imports/tracker.provenance.json  upstream, commit or retrieval date, license, attribution
      imports/eosai.jsonl, eosai.provenance.json, mot.jsonl, ...

It is never inside the installed package (a wheel's `kg/_data` may be read-only, and is replaced
on upgrade), and never under the build's output folder (releases are pruned; imports are inputs).
Builds read only these files, so they stay offline and deterministic: the retrieval date is
recorded at import time, not at build time. See docs/decisions/0012-workspace-for-imports.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kg.errors import KgError, SourceError
from kg.fsutil import write_atomic

T = TypeVar("T")
ENV = "KG_WORKSPACE"
DEFAULT = "kg-workspace"
_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Provenance:
    """Where one import came from, written beside it and built into the graph's metadata."""

    source: str  # tracker, eosai, mot, wikidata
    title: str  # the dataset's name
    upstream: str = ""  # the repository or endpoint (an IRI), when known
    license: str = ""  # the data's license (an IRI), when known
    attribution: str = ""  # what the authors ask for when the data is reused
    commit: str = ""  # the upstream commit, when the folder is a git clone or the archive names it
    retrieved: str = ""  # YYYY-MM-DD: the day the import was made (when there is no commit)
    folder: str = ""  # the folder read, as given
    records: int = 0  # records imported
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")


def default_workspace() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT)


class Workspace:
    """One workspace folder. Refuses to live inside the installed `kg` package."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_workspace()
        resolved = self.root.resolve()
        if resolved == _PACKAGE or _PACKAGE in resolved.parents:
            raise KgError(
                f"the workspace {self.root} is inside the installed package ({_PACKAGE}); "
                f"choose a folder you own with --workspace or ${ENV}"
            )

    @property
    def imports(self) -> Path:
        return self.root / "imports"

    def path(self, name: str) -> Path:
        """The import file `name` (for example 'tracker.csv')."""
        return self.imports / name

    def write(self, name: str, data: bytes, provenance: Provenance) -> Path:
        """Write an import and its provenance record, each atomically (data last, so a reader
        never sees new data with old provenance)."""
        target = self.path(name)
        write_atomic(self.provenance_path(provenance.source), provenance.to_json())
        write_atomic(target, data)
        return target

    def provenance_path(self, source: str) -> Path:
        return self.imports / f"{source}.provenance.json"

    def provenance(self, source: str) -> Provenance | None:
        path = self.provenance_path(source)
        if not path.exists():
            return None
        display = f"imports/{path.name}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(display, f"cannot be read ({exc})") from None
        if not isinstance(data, dict):
            raise SourceError(display, "not a JSON object")
        known = set(Provenance.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise SourceError(display, f"unknown field(s) {', '.join(unknown)}", field=unknown[0])
        try:
            return Provenance(**data)
        except TypeError as exc:
            raise SourceError(display, f"incomplete provenance ({exc})") from None


def records_to_jsonl(records: Iterable[Any]) -> str:
    """Records (dataclass instances) as an import file: JSON Lines, one record a line, keys
    sorted, non-ASCII kept as written."""
    lines = (json.dumps(asdict(r), sort_keys=True, ensure_ascii=False) + "\n" for r in records)
    return "".join(lines)


def read_jsonl(path: Path, record: Callable[[dict[str, Any]], T]) -> list[T]:
    """The records of an import file (none if it does not exist), each line made into a record
    by `record`; a line that is not JSON or not a record is a SourceError naming the file and
    the line."""
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            records.append(record(json.loads(line)))
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise SourceError(
                f"imports/{path.name}", f"malformed record ({exc})", line=number
            ) from None
    return records
