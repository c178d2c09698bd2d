"""`Release`: the hand-off between the build and everything downstream of it.

A release is a folder `output/releases/<build-id>/` holding the embedded store, the dumps, the
manifest, reports and figures; `output/current` points at the one in use. Queries, validation,
reasoning, pages, the site, the server and uploads read a release only through this object.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.release.integrity import verify_release
from kg.store.oxigraph import OxigraphStore
from kg.vocab.namespaces import Base


def default_output() -> Path:
    """The build folder: `$KG_OUTPUT`, or `./output`."""
    return Path(os.environ.get("KG_OUTPUT", "output"))


def quad_key(q: ox.Quad) -> tuple[str, str, str, str]:
    """A text order of quads (graph, subject, predicate, object), for lists held in Python
    (`assemble`); the dumps follow the store's own order (decision 23)."""
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


@dataclass(frozen=True)
class Release:
    """One built release on disk."""

    path: Path
    _manifest: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def current(cls, out: Path | None = None) -> Release:
        """The release `<out>/current` points to (default build folder when `out` is None)."""
        out = out or default_output()
        link = out / "current"
        if not link.exists():
            raise KgError(f"no build found at {link}: run 'kg build' first (or pass --out)")
        return cls(link.resolve())

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The release's manifest; a missing or broken one is a clear error."""
        if self._manifest is not None:
            return self._manifest
        path = self.path / "manifest.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KgError(f"{path} is missing: the release is incomplete; run 'kg build'") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise KgError(f"{path} cannot be read ({exc}); run 'kg build'") from None
        return data

    @property
    def build_id(self) -> str:
        return str(self.manifest["build_id"])

    @property
    def base(self) -> Base:
        return Base(self.manifest["base"])

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    @property
    def dumps(self) -> Path:
        return self.path / "dumps"

    @property
    def reports(self) -> Path:
        return self.path / "reports"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def graphs(self) -> dict[str, int]:
        """Triples per named graph, as the build counted them."""
        return dict(self.manifest["graphs"])

    def verify(self, *, store: bool = True, fully: bool = False) -> Release:
        """Check the release against its manifest (the size and sha256 of every dump and store
        file; with `store`, the triples per graph in the store); a corrupt or truncated release
        raises KgError naming the file (decision 19). Files unchanged since the last full check
        are not hashed again unless `fully` (decision 33). Returns the release."""
        verify_release(self.path, self.manifest, store=store, fully=fully)
        return self

    def open_store(self) -> OxigraphStore:
        """The release's embedded store, read-only."""
        return OxigraphStore.open_read_only(self.store_path)

    def sorted_quads(self, store: OxigraphStore | None = None) -> Iterator[ox.Quad]:
        """Every quad of the release in dump order: the store's index order, the same for the
        same quads (decision 23), streamed from the store rather than sorted in Python."""
        store = store or self.open_store()
        yield from store.iter_quads()
