"""Release integrity: the size and sha256 of every dump and store file, recorded in the manifest by
the build and checked (with the triples per graph in the store) before a release is served,
published or uploaded. See decision 19."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.fsutil import write_atomic
from kg.paths import resource_dir
from kg.store.oxigraph import OxigraphStore
from kg.store.queries import parse_query_file

DUMPS = ("dataset.nq", "dataset.trig", "ontology.ttl")
# RocksDB files that change without the data changing (its info log and lock file); every other
# file of the store is written once by the build and only read afterwards.
_STORE_VOLATILE = ("LOCK", "LOG")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(
    release: Path, known: dict[str, str] | None = None
) -> dict[str, dict[str, int | str]]:
    """Size and sha256 of every dump and store file of a release, and of what the server reads
    besides (the overview's folded answers), as relative path -> digest; the store's volatile
    files (RocksDB's info log and lock file) left out. `known` gives sha256s already computed
    (relative path -> hex digest), so that a large dump is read once."""
    known = known or {}
    served = release / "overview"
    files = (
        sorted((release / "dumps").iterdir())
        + sorted(p for p in (release / "store").iterdir() if not _volatile(p.name))
        + (sorted(served.iterdir()) if served.is_dir() else [])
    )
    return {
        p.relative_to(release).as_posix(): {
            "bytes": p.stat().st_size,
            "sha256": known.get(p.relative_to(release).as_posix()) or sha256_file(p),
        }
        for p in files
    }


def _volatile(name: str) -> bool:
    return name in _STORE_VOLATILE or name.startswith("LOG.old")


FIX = "the release is corrupt or truncated: rebuild it with 'kg build' (or roll back)"


class ReleaseCorrupt(KgError):
    """A release whose files do not match its manifest."""


def verify_release(
    release: Path, manifest: dict[str, Any], *, store: bool = True, fully: bool = False
) -> None:
    """Check the release folder `release` against its `manifest`: every dump and store file
    present with the recorded size and sha256, no store file the build did not write, and (with
    `store`) the store opened read-only holding the recorded triples per graph and no others.
    Raises ReleaseCorrupt naming the first file that differs. (`Release.verify()`.)

    A full check (or the build) leaves a stamp (`STAMP`) of each file's size, modification time
    and inode; while every file still matches it, and the stamp covers what is asked (`store`),
    the hashing and counting are not repeated (decision 33). `fully` checks in full anyway."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise ReleaseCorrupt(
            f"{release / 'manifest.json'} records no file digests (a release built before they "
            "were kept): rebuild it with 'kg build'"
        )
    fix = FIX
    for name in DUMPS:
        if f"dumps/{name}" not in files:
            raise ReleaseCorrupt(f"{release / 'manifest.json'} records no digest of dumps/{name}")
    for rel, want in sorted(files.items()):
        path = release / rel
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ReleaseCorrupt(f"{path} is missing; {fix}") from None
        if size != want["bytes"]:
            raise ReleaseCorrupt(
                f"{path} has {size} bytes, the manifest says {want['bytes']}; {fix}"
            )
    served = release / "overview"
    extra = sorted(
        p
        for p in [
            *(release / "store").iterdir(),
            *(served.iterdir() if served.is_dir() else ()),
        ]
        if not _volatile(p.name) and p.relative_to(release).as_posix() not in files
    )
    if extra:
        raise ReleaseCorrupt(f"{extra[0]} was not written by the build; {fix}")
    if not fully and _stamped(release, manifest, content=store):
        return
    before = _snapshot(release, files)  # a file rewritten while it is hashed is not stamped
    for rel, want in sorted(files.items()):
        path = release / rel
        if sha256_file(path) != want["sha256"]:
            raise ReleaseCorrupt(
                f"{path}: sha256 differs from the manifest's ({want['sha256'][:16]}…); {fix}"
            )
    if store:
        _verify_store_counts(release, manifest, fix)
    write_stamp(release, manifest, content=store, seen=before)


# In a release folder: what a full check saw of each file (decision 33). Not a release file.
STAMP = ".verified.json"


def _snapshot(release: Path, files: Iterable[str]) -> dict[str, list[int]]:
    """Size, modification time (ns) and inode of each file, by relative path. Not the change
    time: `kg serve` hard-links the files into a private folder, which changes it."""
    snapshot = {}
    for rel in sorted(files):
        st = (release / rel).stat()
        snapshot[rel] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return snapshot


def _manifest_digest(manifest: dict[str, Any]) -> str:
    """The manifest's content: a stamp holds for the hashes and counts it was checked against,
    not only for the build id (an edited manifest with the same id is checked in full)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def write_stamp(
    release: Path,
    manifest: dict[str, Any],
    *,
    content: bool,
    seen: dict[str, list[int]] | None = None,
) -> None:
    """Record the release's files as they are now, after a full check (`content`: the store's
    triples were counted too) or by the build that wrote them; `seen`: the files as they were
    before the check, and no stamp if one changed since. Best effort: a release folder this user
    cannot write is checked in full every time."""
    try:
        now = _snapshot(release, manifest["files"])
        if seen is not None and seen != now:
            return
        doc = {
            "build_id": manifest.get("build_id"),
            "manifest": _manifest_digest(manifest),
            "content": content,
            "files": now,
        }
        write_atomic(release / STAMP, json.dumps(doc, sort_keys=True).encode())
    except OSError:
        pass


def _stamped(release: Path, manifest: dict[str, Any], *, content: bool) -> bool:
    """Whether the stamp covers what is asked and every file still matches it."""
    try:
        doc = json.loads((release / STAMP).read_bytes())
        if not isinstance(doc, dict) or doc.get("build_id") != manifest.get("build_id"):
            return False
        if doc.get("manifest") != _manifest_digest(manifest):
            return False
        if content and doc.get("content") is not True:
            return False
        return bool(doc.get("files") == _snapshot(release, manifest["files"]))
    except (OSError, ValueError):
        return False


def _verify_store_counts(release: Path, manifest: dict[str, Any], fix: str) -> None:
    db = OxigraphStore.open_read_only(release / "store")
    verify_counts(db, manifest, release / "store", fix)
    del db  # read-only: nothing to flush


def verify_counts(
    db: OxigraphStore, manifest: dict[str, Any], where: Path | str, fix: str = FIX
) -> None:
    """Check that `db` (the release's store, or the dump loaded into memory, `where` naming it)
    holds exactly the manifest's triples per graph and no other quads; ReleaseCorrupt if not."""
    graphs: dict[str, int] = manifest["graphs"]
    query = parse_query_file(resource_dir("queries") / "internal" / "push-counts.rq")
    text = query.with_tables({("graph",): [(ox.NamedNode(g),) for g in sorted(graphs)]})
    got = {r["graph"].value: int(r["triples"].value) for r in db.raw_query(text)}
    count = parse_query_file(resource_dir("queries") / "internal" / "quad-count.rq")
    total = int(db.select(count).rows[0]["quads"].value)
    for graph, n in sorted(graphs.items()):
        if got.get(graph, 0) != n:
            raise ReleaseCorrupt(
                f"{where}: graph {graph} holds {got.get(graph, 0)} triples, the "
                f"manifest says {n}; {fix}"
            )
    if total != sum(graphs.values()):
        raise ReleaseCorrupt(
            f"{where} holds {total} quads, the manifest says {sum(graphs.values())} "
            f"(graphs it does not list); {fix}"
        )
