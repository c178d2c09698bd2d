"""`kg serve`'s settings, and the public URL it writes absolute URLs with."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import KgError


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    time_limit: float = 10.0
    max_rows: int = 10_000
    workers: int = 2
    max_body: int = 1_000_000  # bytes of a POST body
    quiet: bool = False
    worker_memory_mb: int = 2048  # address space a worker may use beyond its data (0: no limit)
    idle_timeout: float = 30.0  # seconds a connection may stay silent mid-request or between
    max_bytes: int = 20_000_000  # bytes of one answer
    public_url: str | None = None  # the URL clients reach the server at (behind a proxy)
    per_client: int | None = None  # workers one client may hold (None: half, rounded up)
    api_keys: dict[str, str] = field(default_factory=dict)  # key -> name
    max_connections: int = 1000
    backlog: int = 2048
    allow_network: bool = False  # run queries in workers that can reach the network (unsafe)
    text_check: bool = True  # the friendly 403 for SERVICE and Update (off only in tests)
    store: str = "shared"  # one copy in memory shared by the workers, one each, or on disk
    reserve: bool = True  # keep the last free worker for a client that used little lately


STORES = ("shared", "memory", "disk")


def check_store(asked: str, has_store: bool) -> str:
    """Where the workers' data lives (decision 28): `shared` (the default: one process loads the
    release's dump into memory and forks the workers, which share that copy), `memory` (each
    worker loads its own copy), `disk` (each worker opens the release's store read-only)."""
    if asked not in STORES:
        raise KgError(f"--store {asked!r}: one of {', '.join(STORES)}")
    if asked == "disk" and not has_store:
        raise KgError("--store disk: the release has no store folder; rebuild with 'kg build'")
    return asked


def public_root(url: str) -> str:
    """The public base URL without its final slash; KgError unless it is an http(s) URL with a
    host and without query or fragment."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise KgError(
            f"--public-url {url!r} must be an http:// or https:// URL without ?query or #fragment"
        )
    try:
        ox.NamedNode(url)
    except ValueError as exc:
        raise KgError(f"--public-url {url!r} is not a valid IRI: {exc}") from None
    return url.rstrip("/")
