"""`kg link wikidata`: candidate Wikidata items for the paper's models and organisations.

Each name is looked up by exact English label through a SPARQL endpoint with `kg.http`
(endpoint configurable; descriptive User-Agent; timeout; retries with backoff). Every answer is
cached on disk, keyed by endpoint and query, so later runs are reproducible offline. A name with
exactly one candidate is accepted; none or several are listed for a person to decide, never
guessed. The outcome is written atomically to `<workspace>/imports/wikidata.csv`, which the build
loads into `graph/links/wikidata` with its provenance. A broken answer (timeout, HTTP error,
malformed JSON, endpoint down) stops with a clear error and leaves the cache and the previous
links as they were.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import KgError
from kg.paths import resource_dir
from kg.sources.csvio import read_table
from kg.sources.endpoints import WIKIDATA_SPARQL
from kg.sources.iri import iri_problem
from kg.store.queries import parse_query_file

DEFAULT_ENDPOINT = WIKIDATA_SPARQL
LINK_FILE = "imports/wikidata.csv"
COLUMNS = [
    "kind",
    "id",
    "name",
    "status",
    "item",
    "candidates",
    "developers",
    "endpoint",
    "query",
    "date",
]
QUERY = "link/wikidata-candidates.rq"


@dataclass(frozen=True)
class LinkRow:
    kind: str  # model or organisation
    id: str
    name: str
    status: str  # accepted, ambiguous, missing
    item: str  # the accepted item, or ""
    candidates: str  # all candidate items, space-separated
    developers: str  # P178 of the accepted item, space-separated
    endpoint: str
    query: str
    date: str


class WikidataEndpoint:
    """A SPARQL endpoint reached through `kg.http.HttpClient`, with a disk cache of its answers."""

    def __init__(
        self,
        url: str,
        cache: Path,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        offline: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.cache = cache
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.offline = offline
        self.sleep = sleep

    def _key(self, text: str) -> Path:
        digest = hashlib.sha256(f"{self.url}\n{text}".encode()).hexdigest()
        return self.cache / f"{digest}.json"

    def select(self, text: str) -> list[dict[str, Any]]:
        cached = self._key(text)
        if cached.exists():
            rows: list[dict[str, Any]] = json.loads(cached.read_text(encoding="utf-8"))["results"][
                "bindings"
            ]
            return rows
        if self.offline:
            raise KgError(
                f"offline, and no cached answer for a query to {self.url}: run once "
                "online (or with the same endpoint) to fill the cache"
            )
        answer = self._fetch(text)
        try:
            bindings = answer["results"]["bindings"]
            assert isinstance(bindings, list)
        except (KeyError, TypeError, AssertionError):
            raise KgError(
                f"{self.url} answered JSON that is not SPARQL results (no results.bindings list)"
            ) from None
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(answer, sort_keys=True), encoding="utf-8")
        tmp.replace(cached)
        return bindings

    def _fetch(self, text: str) -> dict[str, Any]:
        """POST the query (form-encoded; idempotent, so retried on 429, 5xx and network errors
        with exponential backoff, Retry-After honoured) through the project's HTTP client."""
        import urllib.parse

        from kg.http import HttpClient, HttpError, Retry

        body = urllib.parse.urlencode({"query": text}).encode()
        retry = Retry(attempts=self.retries + 1, backoff=self.backoff)
        with HttpClient(
            purpose="kg link wikidata", timeout=self.timeout, retry=retry, sleep=self.sleep
        ) as client:
            try:
                response = client.request(
                    "POST",
                    self.url,
                    content=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/sparql-results+json",
                    },
                    idempotent=True,
                )
            except HttpError as exc:
                last = (
                    f"HTTP {exc.status} {exc.reason}"
                    if exc.status
                    else f"cannot reach the endpoint ({exc.reason})"
                )
                raise KgError(
                    f"{self.url}: {last} (after {client.requests} attempt(s)); the cache and "
                    "the previous links are unchanged"
                ) from None
        try:
            answer: dict[str, Any] = json.loads(response.content)
        except json.JSONDecodeError as exc:
            raise KgError(f"{self.url} answered malformed JSON ({exc.msg} at {exc.pos})") from None
        return answer


def link(names: list[tuple[str, str, str]], endpoint: WikidataEndpoint, date: str) -> list[LinkRow]:
    """Look up (kind, id, name) triples; return one row per name."""
    query = parse_query_file(resource_dir("queries") / QUERY, QUERY.removesuffix(".rq"))
    rows = []
    for kind, ident, name in names:
        terms = query.bindings({"label": name}, {})
        bindings = endpoint.select(query.with_values(terms))
        items: dict[str, set[str]] = {}
        for b in bindings:
            item = b.get("item", {}).get("value")
            if not item:
                continue
            devs = items.setdefault(item, set())
            if "developer" in b:
                devs.add(b["developer"]["value"])
        status = "accepted" if len(items) == 1 else "missing" if not items else "ambiguous"
        item = next(iter(items)) if status == "accepted" else ""
        rows.append(
            LinkRow(
                kind,
                ident,
                name,
                status,
                item,
                " ".join(sorted(items)),
                " ".join(sorted(items.get(item, set()))),
                endpoint.url,
                f"queries/{QUERY}",
                date,
            )
        )
    return rows


def to_csv(rows: list[LinkRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([getattr(r, c) for c in COLUMNS])
    return out.getvalue()


def load_links(root: Path) -> list[LinkRow]:
    path = root / LINK_FILE
    if not path.exists():
        return []
    rows = []
    for row in read_table(path, COLUMNS, display=LINK_FILE):
        if row["status"] not in ("accepted", "ambiguous", "missing"):
            raise row.error(f"unknown status '{row['status']}'", field="status")
        if row["status"] == "accepted" and not row["item"].startswith("http"):
            raise row.error("an accepted link needs an item IRI", field="item")
        for column in ("item", "candidates", "developers", "endpoint"):
            for value in row[column].split():
                if problem := iri_problem(value):
                    raise row.error(problem, field=column, record=row["id"])
        rows.append(LinkRow(*(row[c] for c in COLUMNS)))
    return rows
