"""`kg build`: ontology + curated sources -> dataset in the embedded store, plus dumps.

Outputs live under one folder (default `output/`, or `$KG_OUTPUT`, or `--out`):

    output/current -> releases/<build-id>     (a symlink, swapped atomically)
    output/releases/<build-id>/store/         (the pyoxigraph store)
    output/releases/<build-id>/dumps/dataset.trig, dataset.nq, ontology.ttl
    output/releases/<build-id>/manifest.json

A build writes into a staging folder and only then renames it into place and swaps the link, so a
failing build leaves the previous release untouched. The build id is a hash of the dumps:
the same sources give the same id and byte-identical dumps.

Builds into one output folder take turns on `output/.build.lock` (flock), so one build never
prunes the release another is about to point `current` at. Each build also locks its own staging
folder; staging folders nobody holds are left by killed builds and are removed by the next one.
`output/releases/history.json` records the order in which releases became current: the release
kept for rollback is the one current before, whatever the folders' times. The manifest records
the size and sha256 of every dump and store file (`kg.release.integrity`, decision 19).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.checks.derive import derive
from kg.errors import KgError
from kg.fsutil import write_atomic
from kg.mapping.argument import StatementsMapper
from kg.mapping.fmti import fmti_quads
from kg.mapping.hf import hf_quads
from kg.mapping.imports import import_quads
from kg.mapping.paper import Mapper
from kg.mapping.tracker import tracker_quads
from kg.mapping.wikidata import link_quads
from kg.outputs.reports import write_reports
from kg.paths import resource_dir
from kg.release.integrity import DUMPS, file_digests, sha256_file
from kg.release.release import Release, default_output, quad_key
from kg.sources.argument import load_statements
from kg.sources.fmti import load_imported as load_fmti
from kg.sources.frameworks import component_notations, load_frameworks
from kg.sources.hf import load_import
from kg.sources.loader import load_sources
from kg.sources.tracker import load_imported
from kg.sources.wikidata import load_links
from kg.sources.workspace import Workspace
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import DEFAULT_BASE, GAO, PREFIXES, Base
from kg.vocab.ontology import load_ontology, vocabulary

KEEP_RELEASES = 2  # the current one and the one before it
LOCK_FILE = ".build.lock"
HISTORY = "history.json"  # in releases/: build ids in the order they became current
HISTORY_KEEP = 100
STAGING = ".staging-"


@dataclass
class BuildResult:
    release: Path
    build_id: str
    reused: bool
    graphs: dict[str, int]
    counts: dict[str, int]
    dumps: list[Path] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def assemble(
    sources: Path | None = None, base: str = DEFAULT_BASE, workspace: Path | None = None
) -> list[ox.Quad]:
    """Every quad of the asserted dataset, deduplicated and in a fixed order. Imports are read
    from `workspace` (none when it is None)."""
    triples = load_ontology()
    vocab = vocabulary(triples)
    root = sources or resource_dir("sources")
    src = load_sources(root, vocab)
    statements = load_statements(root, set(vocab.components))
    mapper = Mapper(Base(base), vocab)
    quads = mapper.ontology(triples) + mapper.sources(src)
    quads += StatementsMapper(Base(base)).quads(statements)
    ws = Workspace(workspace) if workspace is not None else None
    if ws is not None:
        imported = load_imported(ws.root, set(vocab.components), {m.id for m in src.models})
        quads += tracker_quads(imported, Base(base))
        quads += link_quads(load_links(ws.root), Base(base))
        fmti = load_fmti(ws.root, {o.id for o in src.organisations}, {m.id for m in src.models})
        quads += fmti_quads(fmti, Base(base), ws.provenance("fmti"))
        hub = load_import(ws)
        if hub is not None:  # materialised here like every source, until the build streams
            meta, records = hub
            quads += hf_quads(records, Base(base), meta)
    frameworks = load_frameworks(root, component_notations(triples))
    paper = {m.id: [m.name, m.table3_label] for m in src.models}
    quads += import_quads(root, ws, Base(base), frameworks, paper)
    return canonical(quads)


def canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Deduplicate, name blank nodes by RDFC-1.0 (only OWL class expressions have any) and sort,
    so the same statements always serialise to the same bytes."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=quad_key)


def build(
    out: Path | None = None,
    sources: Path | None = None,
    base: str = DEFAULT_BASE,
    step: Callable[[str], None] = lambda _msg: None,
    workspace: Path | None = None,
    *,
    wait: bool = True,
    notice: Callable[[str], None] = lambda _msg: None,
) -> BuildResult:
    """Build a release (with the imports in `workspace`, if given). Any error leaves the previous
    release in place and raises KgError.

    Builds into the same `out` take turns: with `wait` a build waits for the one before it to
    finish (telling `notice` so), without it raises KgError at once."""
    out = out or default_output()
    step("reading the ontology, curated sources and imports")
    asserted = assemble(sources, base, workspace)
    with build_lock(out, wait=wait, notice=notice):
        removed = clean_staging(out / "releases")
        if removed:
            step(f"removed {len(removed)} staging folder(s) left by builds that did not finish")
        return _build_locked(out, asserted, base, step)


def _build_locked(
    out: Path, asserted: list[ox.Quad], base: str, step: Callable[[str], None]
) -> BuildResult:
    b = Base(base)
    prefixes = b.prefixes(with_base=False)
    releases = out / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=releases))
    # held until this function returns: tells a later build that this folder is not stale
    staging_fd = os.open(staging, os.O_RDONLY)
    fcntl.flock(staging_fd, fcntl.LOCK_EX)
    try:
        # Derivation and reports run on an in-memory copy (several times faster than RocksDB
        # for these small queries); the on-disk store is then loaded once, complete.
        step("deriving classifications (queries/derive)")
        work = OxigraphStore.in_memory()
        work.add_quads(asserted)
        asserted_graphs = sorted(
            {q.graph_name for q in asserted if isinstance(q.graph_name, ox.NamedNode)}
            - {b.graph("metadata")},
            key=str,
        )
        derived = derive(work, b, asserted_graphs)
        quads = sorted(set(asserted + derived), key=quad_key)  # rules mint no blank nodes
        counts = _counts(work)
        step("writing reports and figures")
        write_reports(work, staging)
        step("loading the embedded store")
        store = OxigraphStore.create(staging / "store")
        store.add_quads(quads)
        store.close()

        step("writing dumps")
        dumps = staging / "dumps"
        dumps.mkdir()
        ox.serialize(quads, str(dumps / "dataset.nq"), ox.RdfFormat.N_QUADS)
        ox.serialize(quads, str(dumps / "dataset.trig"), ox.RdfFormat.TRIG, prefixes=prefixes)
        ontology_graph = Base(base).graph("ontology")
        onto = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in quads
            if q.graph_name == ontology_graph
        ]
        ox.serialize(onto, str(dumps / "ontology.ttl"), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        digest = hashlib.sha256()
        for name in DUMPS:  # the id covers every dump, so any change in output is a new release
            digest.update((dumps / name).read_bytes())
        build_id = digest.hexdigest()[:16]

        graphs = Counter(
            q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)
        )
        manifest = {
            "build_id": build_id,
            "base": Base(base).base,
            "graphs": dict(sorted(graphs.items())),
            "counts": counts,
            "dumps": {name: sha256_file(dumps / name) for name in DUMPS},
            "files": file_digests(staging),
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        )

        final = releases / build_id
        reused = final.exists()
        if reused:
            shutil.rmtree(staging)  # identical content is already released
        else:
            os.rename(staging, final)
        make_current(out, build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.close(staging_fd)
    return BuildResult(
        final, build_id, reused, dict(graphs), counts, [final / "dumps" / name for name in DUMPS]
    )


def _counts(store: OxigraphStore) -> dict[str, int]:
    """Instances per ontology class (local name -> count)."""
    result = store.select(parse_query_file(resource_dir("queries") / "internal" / "summary.rq"))
    return {r["class"].value.removeprefix(GAO): int(r["instances"].value) for r in result.rows}


def _point_current(out: Path, target: Path) -> None:
    tmp = out / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, out / "current")


def make_current(out: Path, build_id: str) -> None:
    """Point `out/current` at release `build_id`, record it in the history, prune the releases
    neither current nor current just before. Call with the build lock held."""
    releases = out / "releases"
    _point_current(out, Path("releases") / build_id)
    history = [*read_history(releases), build_id][-HISTORY_KEEP:]
    write_atomic(releases / HISTORY, (json.dumps(history, indent=1) + "\n").encode())
    _prune(releases, keep=build_id)


def read_history(releases: Path) -> list[str]:
    """Build ids in the order they became current (oldest first); [] if none was recorded."""
    path = releases / HISTORY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, json.JSONDecodeError) as exc:
        raise KgError(f"{path} cannot be read ({exc}); remove it to start a new history") from None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise KgError(f"{path} is not a list of build ids; remove it to start a new history")
    return data


def previous_release(out: Path) -> str | None:
    """The build id of the release that was current before the current one (None if none)."""
    current = Release.current(out).path.name
    for build_id in reversed(read_history(out / "releases")):
        if build_id != current and (out / "releases" / build_id / "manifest.json").is_file():
            return build_id
    return None


def _prune(releases: Path, keep: str) -> None:
    """Keep the new release and the ones current just before it (KEEP_RELEASES in all), by the
    order they became current (history.json), not by the folders' times: a rebuild that reuses
    an old release does not touch its folder. Releases the history does not know (built before
    it was kept) come after those it knows, newest first."""
    history = read_history(releases)
    rank = {build_id: i for i, build_id in enumerate(history)}  # the last time each was current
    others = sorted(
        (
            p
            for p in releases.iterdir()
            if p.is_dir() and p.name != keep and not p.name.startswith(STAGING)
        ),
        key=lambda p: (rank.get(p.name, -1), p.stat().st_mtime),
        reverse=True,
    )
    for old in others[KEEP_RELEASES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def build_lock(
    out: Path, *, wait: bool = True, notice: Callable[[str], None] = lambda _msg: None
) -> Iterator[None]:
    """Hold `out/.build.lock` (flock) for the body. Another holder makes this wait (telling
    `notice` who holds it) or, without `wait`, raise KgError. The kernel drops the lock when its
    holder dies, so a killed build never blocks the next one."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            if not wait:
                raise KgError(
                    f"another kg build ({holder}) is writing to {out} (it holds {path}); "
                    "try again when it has finished, or leave out --no-wait to wait for it"
                ) from None
            notice(f"waiting for another kg build ({holder}) to finish writing to {out} …")
            started = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            notice(f"… it finished after {time.monotonic() - started:.0f} s; building")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def clean_staging(releases: Path) -> list[Path]:
    """Remove the staging folders that no live build holds (left by killed builds)."""
    removed: list[Path] = []
    if not releases.is_dir():
        return removed
    for folder in sorted(releases.glob(STAGING + "*")):
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live build holds it
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed
