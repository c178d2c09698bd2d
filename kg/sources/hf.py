"""Hugging Face Hub model metadata: `/api/models` records, read one line at a time.

A record is what `GET /api/models?full=true&cardData=true` returns for one repository (the fields
`huggingface_hub.HfApi.list_models(full=True, cardData=True)` reads): `id`, `author`, `tags`
(among them `license:…`, `base_model:…`, `base_model:{finetune|adapter|merge|quantized}:…`,
`dataset:…`, `arxiv:…`), `cardData` (`license`, `license_name`, `license_link`, `base_model`,
`base_model_relation`, `datasets`), `gated`, `downloads`, `likes`, `createdAt`, `lastModified`,
`pipeline_tag`, `library_name`. Other fields are ignored.

`read_records` streams a JSON Lines file: every record is checked, a malformed one is reported
with its line and field and skipped, never fatal for the rest; memory does not grow with the file
(but for the set of ids seen, to report duplicates). `fetch_pages` pages through a live Hub (or
anything answering like it, at `$HF_ENDPOINT`) by its `Link: <…>; rel="next"` headers, appending
raw records to a cache file and saving the next page's URL after each page, so an interrupted
fetch resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from kg.errors import KgError
from kg.sources.endpoints import HUGGING_FACE_HUB
from kg.sources.workspace import Provenance, Workspace

# a Hub repository id: an optional owner and a name, each of letters, digits, '-', '_', '.'
REPO_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
RELATIONS = ("finetune", "adapter", "merge", "quantized")
GATED = {False: "false", "auto": "auto", "manual": "manual", True: "auto"}
DEFAULT_ENDPOINT = HUGGING_FACE_HUB


@dataclass(frozen=True)
class HubRecord:
    """One repository's metadata, checked; lists in the order the record gives them."""

    id: str
    line: int
    author: str | None = None
    licenses: tuple[str, ...] = ()  # declared license texts as written (tags, then card)
    license_name: str | None = None
    license_link: str | None = None
    bases: tuple[tuple[str, str | None], ...] = ()  # (base id, relation or None)
    datasets: tuple[str, ...] = ()
    arxiv: tuple[str, ...] = ()
    gated: str | None = None  # "false", "auto" or "manual"
    downloads: int | None = None
    likes: int | None = None
    created: str | None = None
    modified: str | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None

    def to_json(self) -> str:
        """The record as a minimal /api/models record: reading it back gives the same record."""
        tags = [f"license:{t}" for t in self.licenses]
        tags += [f"base_model:{r}:{b}" if r else f"base_model:{b}" for b, r in self.bases]
        tags += [f"dataset:{d}" for d in self.datasets] + [f"arxiv:{a}" for a in self.arxiv]
        card = {"license_name": self.license_name, "license_link": self.license_link}
        data = {
            "id": self.id,
            "author": self.author,
            "tags": tags,
            "cardData": {k: v for k, v in card.items() if v is not None} or None,
            "gated": {"false": False, None: None}.get(self.gated, self.gated),
            "downloads": self.downloads,
            "likes": self.likes,
            "createdAt": self.created,
            "lastModified": self.modified,
            "pipeline_tag": self.pipeline_tag,
            "library_name": self.library_name,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)

    def licenses_as_written(self) -> tuple[str, ...]:
        """The licenses as the record writes them, for the license knowledge base to resolve
        (rule 62, as every source's): the card's license_name where the license is 'other',
        else the declared text. Not normalised: the rule matches case-folded keys itself."""
        written: list[str] = []
        for text in self.licenses:
            use = self.license_name if text.casefold() == "other" and self.license_name else text
            if use not in written:
                written.append(use)
        return tuple(written)


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str
    record: str | None = None

    def __str__(self) -> str:
        rec = f", record '{self.record}'" if self.record else ""
        return f"line {self.line}{rec}, field '{self.field}': {self.message}"


@dataclass
class ReadReport:
    """What reading a file found beside the records: counts and the malformed records."""

    read: int = 0
    kept: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    max_problems: int = 1000  # the first ones are kept for the report; all are counted

    def problem(self, p: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(p)


class Malformed(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(name, "must be a string or a list of strings")
    return [v.strip() for v in value if v.strip()]


def _optional_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Malformed(name, f"must be a string, not {type(value).__name__}")
    return value.strip() or None


def _count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(name, f"must be a whole number of 0 or more, not {value!r}")
    return value


def _date(value: Any, name: str) -> str | None:
    text = _optional_str(value, name)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(name, f"'{text}' is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise Malformed(name, f"'{text}' has no time zone")
    return parsed.isoformat().replace("+00:00", "Z")


def _repo(value: str, name: str) -> str:
    if not REPO_ID.match(value) or ".." in value:
        raise Malformed(name, f"'{value}' is not a Hub repository id (owner/name)")
    return value


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)


def check_record(data: Any, line: int) -> HubRecord:
    """One parsed JSON value -> a checked record. Raises Malformed naming the field."""
    if not isinstance(data, dict):
        raise Malformed("(record)", f"a record must be a JSON object, not {type(data).__name__}")
    rid = data.get("id", data.get("modelId"))
    if not isinstance(rid, str) or not rid.strip():
        raise Malformed("id", "missing: every record needs the repository id")
    rid = _repo(rid.strip(), "id")
    tags = data.get("tags")
    if tags is not None and not isinstance(tags, list):
        raise Malformed("tags", f"must be a list of strings, not {type(tags).__name__}")
    tags = _strings(tags, "tags")
    card = data.get("cardData")
    if card is not None and not isinstance(card, dict):
        raise Malformed("cardData", "must be an object")
    card = card or {}
    licenses: list[str] = []
    typed: list[tuple[str, str | None]] = []  # (base id, relation)
    untyped: list[str] = []
    datasets: list[str] = []
    arxiv: list[str] = []
    for tag in tags:
        kind, _, value = tag.partition(":")
        if not value:
            continue
        if kind == "license":
            _add(licenses, value)
        elif kind == "base_model":
            relation, _, target = value.partition(":")
            if relation in RELATIONS and target:
                _add(typed, (_repo(target, f"tags ({tag})"), relation))
            else:
                _add(untyped, _repo(value, f"tags ({tag})"))
        elif kind == "dataset":
            _add(datasets, _repo(value, f"tags ({tag})"))
        elif kind == "arxiv":
            if not ARXIV_ID.match(value):
                raise Malformed(f"tags ({tag})", f"'{value}' is not an arXiv identifier")
            _add(arxiv, value)
    for text in _strings(card.get("license"), "cardData.license"):
        _add(licenses, text)
    card_relation = _optional_str(card.get("base_model_relation"), "cardData.base_model_relation")
    if card_relation is not None and card_relation not in RELATIONS:
        raise Malformed(
            "cardData.base_model_relation",
            f"unknown relation '{card_relation}' (expected one of {', '.join(RELATIONS)})",
        )
    for base in _strings(card.get("base_model"), "cardData.base_model"):
        base = _repo(base, "cardData.base_model")
        if card_relation is None:
            _add(untyped, base)
        else:
            _add(typed, (base, card_relation))
    for ds in _strings(card.get("datasets"), "cardData.datasets"):
        _add(datasets, _repo(ds, "cardData.datasets"))
    typed_ids = {b for b, _ in typed}
    bases = typed + [(b, None) for b in untyped if b not in typed_ids]
    if any(b == rid for b, _ in bases):
        raise Malformed("base_model", f"the repository names itself ('{rid}') as its base model")
    gated = data.get("gated")
    if gated is not None and (not isinstance(gated, bool | str) or gated not in GATED):
        raise Malformed("gated", f"must be false, 'auto' or 'manual', not {gated!r}")
    author = _optional_str(data.get("author"), "author")
    return HubRecord(
        id=rid,
        line=line,
        author=author,
        licenses=tuple(licenses),
        license_name=_optional_str(card.get("license_name"), "cardData.license_name"),
        license_link=_optional_str(card.get("license_link"), "cardData.license_link"),
        bases=tuple(bases),
        datasets=tuple(datasets),
        arxiv=tuple(arxiv),
        gated=None if gated is None else GATED[gated],
        downloads=_count(data.get("downloads"), "downloads"),
        likes=_count(data.get("likes"), "likes"),
        created=_date(data.get("createdAt"), "createdAt"),
        modified=_date(data.get("lastModified"), "lastModified"),
        pipeline_tag=_optional_str(data.get("pipeline_tag"), "pipeline_tag"),
        library_name=_optional_str(data.get("library_name"), "library_name"),
    )


def read_records(path: Path, report: ReadReport) -> Iterator[HubRecord]:
    """Stream the checked records of a JSON Lines file; problems go to `report`."""
    if not path.is_file():
        raise KgError(f"{path}: no such file")
    seen: set[str] = set()
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            report.read += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                report.problem(Problem(number, "(record)", "not valid UTF-8"))
                continue
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = getattr(exc, "msg", "nested too deeply")
                report.problem(Problem(number, "(record)", f"not valid JSON ({msg})"))
                continue
            try:
                record = check_record(data, number)
            except Malformed as exc:
                rid = data.get("id") if isinstance(data, dict) else None
                report.problem(
                    Problem(number, exc.field, exc.message, rid if isinstance(rid, str) else None)
                )
                continue
            if record.id in seen:
                report.problem(
                    Problem(number, "id", "duplicate: an earlier line has the same id", record.id)
                )
                continue
            seen.add(record.id)
            report.kept += 1
            yield record


# ---------------------------------------------------------------------------
# Live: page through /api/models
# ---------------------------------------------------------------------------


def endpoint() -> str:
    """The Hub to read: `$HF_ENDPOINT`, as huggingface_hub reads it, or the public Hub."""
    value = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise KgError(f"HF_ENDPOINT '{value}' is not an http(s) URL")
    return value


@dataclass
class Checkpoint:
    """Where a fetch stopped: the next page's URL and how many bytes of records were kept."""

    endpoint: str
    first: str  # the first page's URL (identifies the listing)
    next: str | None
    records: int = 0
    size: int = 0  # bytes of the cache file that hold complete pages
    done: bool = False

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise KgError(
                f"{path}: unreadable checkpoint ({exc}); delete it or use --refresh"
            ) from None

    def save(self, path: Path) -> None:
        from kg.fsutil import write_atomic

        write_atomic(path, (json.dumps(asdict(self), indent=2) + "\n").encode("utf-8"))


def first_page(base: str, page_size: int) -> str:
    return f"{base}/api/models?full=true&cardData=true&limit={page_size}"


def fetch_pages(
    cache: Path,
    *,
    page_size: int = 1000,
    limit: int | None = None,
    refresh: bool = False,
    retries: int = 5,
    timeout: float = 60.0,
    on_page: Callable[[int], None] = lambda _n: None,
) -> Path:
    """Fetch the listing into `cache/models.jsonl` (raw records), resumable; return its path."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_backoff

    base = endpoint()
    cache.mkdir(parents=True, exist_ok=True)
    data = cache / "models.jsonl"
    state_file = cache / "checkpoint.json"
    first = first_page(base, page_size)
    state = None if refresh else Checkpoint.load(state_file)
    if state is not None and (state.endpoint != base or state.first != first):
        state = None  # another listing: start over
    if state is None:
        state = Checkpoint(base, first, first)
        data.write_bytes(b"")
        state.save(state_file)
    if state.done:
        return data
    origin = urlsplit(base)
    headers = build_hf_headers()
    with data.open("r+b") as out:
        out.truncate(state.size)  # drop a page that was being written when the fetch stopped
        out.seek(state.size)
        while state.next is not None and (limit is None or state.records < limit):
            url = state.next
            try:
                response = http_backoff(
                    "GET", url, headers=headers, max_retries=retries, timeout=timeout
                )
                hf_raise_for_status(response)
            except OfflineModeIsEnabled as exc:
                raise KgError(f"cannot fetch {url}: {exc}") from None
            except HfHubHTTPError as exc:
                raise KgError(f"{url}: the Hub answered with an error: {exc}") from None
            except OSError as exc:
                raise KgError(_offline(url, exc)) from None
            except Exception as exc:  # httpx errors: connection refused, DNS, timeouts
                if type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore"):
                    raise KgError(_offline(url, exc)) from None
                raise
            try:
                page = response.json()
            except ValueError:
                raise KgError(f"{url}: the answer is not JSON") from None
            if not isinstance(page, list):
                raise KgError(f"{url}: expected a JSON list of models")
            for item in page:
                out.write(json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n")
            out.flush()
            os.fsync(out.fileno())
            state.records += len(page)
            state.size = out.tell()
            state.next = _next_link(response, origin)
            state.done = state.next is None
            state.save(state_file)
            on_page(state.records)
    return data


def _offline(url: str, exc: BaseException) -> str:
    return (
        f"cannot reach {url} ({type(exc).__name__}: {exc}). Are you offline? Set HF_ENDPOINT "
        "to a reachable Hub or mirror, or import a file: kg import hf FILE.jsonl"
    )


def _next_link(response: Any, origin: Any) -> str | None:
    """The `rel="next"` URL, only when it stays on the endpoint's scheme, host and port."""
    nxt = response.links.get("next", {}).get("url")
    if not isinstance(nxt, str) or not nxt:
        return None
    target = urlsplit(urljoin(str(response.url), nxt))
    if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
        raise KgError(
            f"the next page link points to {target.scheme}://{target.netloc}, not to the "
            f"endpoint {origin.scheme}://{origin.netloc}: refused"
        )
    return target.geturl()


# ---------------------------------------------------------------------------
# The import in the workspace: checked records, one per line, and what they came from
# ---------------------------------------------------------------------------
IMPORT_FILE = "hf.jsonl"  # in the workspace's imports/, beside hf.provenance.json


def write_import(
    records: Iterator[HubRecord], ws: Workspace, provenance: Callable[[int], Provenance]
) -> tuple[Path, Provenance]:
    """Write checked records to the workspace as they stream by, then their provenance
    (`provenance` is given the count). Atomic: the previous import stays until this one is
    complete; the data is renamed into place last, as Workspace.write does."""
    import tempfile

    from kg.fsutil import write_atomic

    target = ws.path(IMPORT_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{IMPORT_FILE}.", dir=target.parent)
    count = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for record in records:
                out.write(record.to_json().encode("utf-8") + b"\n")
                count += 1
        meta = provenance(count)
        write_atomic(ws.provenance_path(meta.source), meta.to_json())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, meta


def load_import(ws: Workspace) -> tuple[Provenance, Iterator[HubRecord]] | None:
    """The workspace's import (the build's view), or None when there is none. The records were
    checked when imported; a file changed by hand since is checked again, line by line, and the
    first problem stops the build."""
    path = ws.path(IMPORT_FILE)
    if not path.is_file():
        return None
    meta = ws.provenance("hf")
    if meta is None:
        raise KgError(f"imports/{IMPORT_FILE} has no hf.provenance.json beside it: import again")

    def records() -> Iterator[HubRecord]:
        report = ReadReport()
        yield from read_records(path, report)
        if report.problems:
            raise KgError(f"imports/{IMPORT_FILE}, {report.problems[0]}")

    return meta, records()
