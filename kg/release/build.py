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
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.checks.batches import (
    BATCH_MODELS,
    canonical_blank,
    derive_in_batches,
    has_blank,
    partition,
)
from kg.checks.derive import describe, run_rules
from kg.errors import KgError
from kg.fsutil import write_atomic
from kg.mapping.argument import StatementsMapper
from kg.mapping.fmti import fmti_quads
from kg.mapping.hf import hf_quads
from kg.mapping.imports import import_quads
from kg.mapping.paper import Mapper
from kg.mapping.tracker import tracker_quads
from kg.mapping.wikidata import link_quads
from kg.outputs.report_process import write_outputs
from kg.paths import resource_dir
from kg.release.integrity import DUMPS, file_digests, write_stamp
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


def asserted_quads(
    sources: Path | None = None, base: str = DEFAULT_BASE, workspace: Path | None = None
) -> Iterator[ox.Quad]:
    """Every quad of the asserted dataset, source by source as the mappers make them: not
    deduplicated, blank nodes as parsed (see `load_asserted` and `assemble`). Imports are read
    from `workspace` (none when it is None); the Hub import streams record by record."""
    triples = load_ontology()
    vocab = vocabulary(triples)
    root = sources or resource_dir("sources")
    src = load_sources(root, vocab)
    statements = load_statements(root, set(vocab.components))
    mapper = Mapper(Base(base), vocab)
    yield from mapper.ontology(triples)
    yield from mapper.sources(src)
    yield from StatementsMapper(Base(base)).quads(statements)
    ws = Workspace(workspace) if workspace is not None else None
    if ws is not None:
        imported = load_imported(ws.root, set(vocab.components), {m.id for m in src.models})
        yield from tracker_quads(imported, Base(base))
        yield from link_quads(load_links(ws.root), Base(base))
        fmti = load_fmti(ws.root, {o.id for o in src.organisations}, {m.id for m in src.models})
        yield from fmti_quads(fmti, Base(base), ws.provenance("fmti"))
        hub = load_import(ws)
        if hub is not None:
            meta, records = hub
            yield from hf_quads(records, Base(base), meta)
    frameworks = load_frameworks(root, component_notations(triples))
    paper = {m.id: [m.name, m.table3_label] for m in src.models}
    yield from import_quads(root, ws, Base(base), frameworks, paper)


def assemble(
    sources: Path | None = None, base: str = DEFAULT_BASE, workspace: Path | None = None
) -> list[ox.Quad]:
    """Every quad of the asserted dataset as a list, deduplicated, blank nodes canonical, sorted
    by `quad_key`: for small data and tests. `kg build` streams instead (`load_asserted`)."""
    return canonical(list(asserted_quads(sources, base, workspace)))


def canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Deduplicate, name blank nodes by RDFC-1.0 (only OWL class expressions have any) and sort,
    so the same statements always serialise to the same bytes."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=quad_key)


def load_asserted(store: OxigraphStore, quads: Iterable[ox.Quad]) -> int:
    """Stream `quads` into `store` (bulk loading; the store deduplicates). Quads with a blank
    node are held back and canonicalised (RDFC-1.0) on their own before they are loaded: a blank
    node's canonical name depends only on the quads that mention blank nodes, so this names
    them as canonicalising the whole dataset would, without the whole dataset in Python. One
    call per dataset: two calls would give their blank nodes the same canonical names.
    Returns the number of quads held back."""
    blank: list[ox.Quad] = []

    def plain() -> Iterator[ox.Quad]:
        for q in quads:
            if has_blank(q):
                blank.append(q)
            else:
                yield q

    store.add_quads(plain())
    if blank:
        store.add_quads(canonical_blank(blank))
    return len(blank)


SMALL_BUILD = 100_000  # asserted quads: a dataset smaller than this is derived in memory


def working_store(quads: Iterable[ox.Quad]) -> OxigraphStore:
    """An in-memory store loaded with `quads` (`load_asserted`), not yet derived: a small build
    (fewer than SMALL_BUILD asserted quads; the paper's own has about 17,000) derives there,
    where the rules' many small queries run about three times faster than on RocksDB, and
    `on_disk` copies it to the release's store afterwards (decision 27)."""
    store = OxigraphStore.in_memory()
    try:
        load_asserted(store, quads)
    except BaseException:
        store.close()
        raise
    return store


def derived_store(
    path: Path,
    quads: Iterable[ox.Quad],
    base: Base,
    step: Callable[[str], None] = lambda _msg: None,
) -> OxigraphStore:
    """A store holding `quads` and everything the rules derive from them, the derived graphs
    described in the metadata graph. Small data is derived in memory (decision 27; the store
    is then still in memory: see `on_disk`). A large dataset is split by model as it streams in
    (`kg.checks.batches`, in a folder beside `path`): if the models' own statements outweigh
    the shared ones it is derived in batches in worker processes (decision 29), else loaded
    into the on-disk store at `path` and derived there."""
    stream = iter(quads)  # at most SMALL_BUILD quads held in Python to tell the two apart
    head = list(itertools.islice(stream, SMALL_BUILD))
    if len(head) < SMALL_BUILD:
        store, batched = working_store(head), False
    else:
        store, batched = _large_store(path, itertools.chain(head, stream), base, step)
    try:
        derived = base.graph("derived").value + "/"
        sources = [
            g
            for g in store.graph_names()
            if g != base.graph("metadata") and not g.value.startswith(derived)
        ]
        if not batched:
            step("deriving classifications (queries/derive)")
            run_rules(store, base)
        describe(store, base, sources)
    except BaseException:
        store.close()
        raise
    return store


def _large_store(
    path: Path, quads: Iterable[ox.Quad], base: Base, step: Callable[[str], None]
) -> tuple[OxigraphStore, bool]:
    """The on-disk store at `path` with the asserted `quads`, and whether the rules have run
    already (in batches: `derived_store`)."""
    spill = path.parent / ".batches"
    spill.mkdir()
    try:
        part = partition(quads, base, spill)
        if part.worth_batching:
            step(
                f"deriving classifications (queries/derive) in {len(part.batches)} "
                f"batches of up to {BATCH_MODELS} models ({part.models} models)"
            )
            store = derive_in_batches(path, part, base, step=step)
        else:
            store = OxigraphStore.create(path)
            try:
                part.load_all(store)
            except BaseException:
                store.close()
                raise
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return store, part.worth_batching


def on_disk(store: OxigraphStore, path: Path) -> OxigraphStore:
    """The release's on-disk store at `path`: `store` itself if it is there already, else a new
    one holding `store`'s quads (one bulk load; `store` is closed)."""
    if store.path is not None:
        return store
    disk = OxigraphStore.create(path)
    disk.add_quads(store.iter_quads())
    store.close()
    return disk


def trig_from_nquads(nquads: Path, trig: Path, prefixes: dict[str, str]) -> None:
    """Write the N-Quads dump `nquads` again as TriG, streaming: the same quads in the same
    order (the on-disk store's), so the same bytes as the store's own TriG dump, in about a
    quarter of its time (reading RocksDB, not writing, is what a dump costs)."""
    quads = ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    ox.serialize(quads, str(trig), ox.RdfFormat.TRIG, prefixes=prefixes)


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
    with build_lock(out, wait=wait, notice=notice):
        removed = clean_staging(out / "releases")
        if removed:
            step(f"removed {len(removed)} staging folder(s) left by builds that did not finish")
        return _build_locked(out, sources, base, workspace, step)


def _build_locked(
    out: Path,
    sources: Path | None,
    base: str,
    workspace: Path | None,
    step: Callable[[str], None],
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
        # One store, loaded once: the sources stream into it, the rules derive on it, the
        # reports read it and the dumps are written from the on-disk store (decision 23); small
        # data is derived in memory and copied to disk once, before the dumps (decision 27);
        # large data is split by model and derived in batches when that pays, and its reports
        # are written beside the dumps by a process of their own (decision 29).
        step("reading the ontology, curated sources and imports into the store")
        store = derived_store(staging / "store", asserted_quads(sources, base, workspace), b, step)
        reports: ReportProcess | None = None
        try:
            counts = _counts(store)
            graphs = store.counts()
            if store.path is None:
                step("writing reports and figures")
                write_outputs(store, staging)
                step("writing dumps")
                store = on_disk(store, staging / "store")
            else:  # both from the on-disk store, side by side
                step("writing dumps, and reports and figures in a process of their own")
                store = finished(store)
                reports = ReportProcess(store, staging)
            dumps = staging / "dumps"
            dumps.mkdir()
            store.dump(dumps / "dataset.nq", ox.RdfFormat.N_QUADS)
            trig_from_nquads(dumps / "dataset.nq", dumps / "dataset.trig", prefixes)
            store.dump(
                dumps / "ontology.ttl",
                ox.RdfFormat.TURTLE,
                graph=b.graph("ontology"),
                prefixes=PREFIXES,
            )
            if reports is not None:
                step("waiting for the reports and figures")
                reports.wait()
        finally:
            store.close()
            if reports is not None:
                reports.stop()
        digest = hashlib.sha256()
        dump_digests: dict[str, str] = {}
        for name in DUMPS:  # the id covers every dump, so any change in output is a new release
            one = hashlib.sha256()
            with (dumps / name).open("rb") as f:  # read once: the id and each dump's digest
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    one.update(chunk)
            dump_digests[name] = one.hexdigest()
        build_id = digest.hexdigest()[:16]

        manifest = {
            "build_id": build_id,
            "base": Base(base).base,
            "graphs": dict(sorted(graphs.items())),
            "counts": counts,
            "dumps": dump_digests,
            "files": file_digests(staging, {f"dumps/{n}": d for n, d in dump_digests.items()}),
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        )
        # the digests were read from the files as written and the counts from the store: a
        # full check's worth, so serving this release need not hash it again (decision 33)
        write_stamp(staging, manifest, content=True)

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


def finished(store: OxigraphStore) -> OxigraphStore:
    """The on-disk `store`, closed and opened again read-only: what the dumps and the report
    process read once nothing more is written. A store still open for writing goes on
    compacting what was bulk-loaded into it, and a second process reading it then failed at
    100,000 models (`std::bad_alloc` in the report process, while the same queries on the
    finished store ran in 1.5 GB)."""
    assert store.path is not None, "only an on-disk store is read by another process"
    path = store.path
    store.close()
    return OxigraphStore.open_read_only(path)


class ReportProcess:
    """`kg.outputs.report_process` writing a release's reports and figures from its on-disk
    store, in a process of its own. The store must be finished (`finished`: read-only, so
    that no process writes or compacts it while the report process reads it)."""

    def __init__(self, store: OxigraphStore, release: Path) -> None:
        import kg

        if store.path is None or not store.read_only:
            raise ValueError("the report process reads a finished on-disk store (finished())")

        code = str(Path(kg.__file__).resolve().parent.parent)  # this `kg`, wherever it is
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH")) if p)
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "kg.outputs.report_process", str(store.path), str(release)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            env=env,
        )

    def wait(self) -> None:
        """Wait for the process; KgError with its last lines if it failed."""
        code = self._process.wait()
        if code != 0:
            self._errors.seek(0)
            lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
            tail = " | ".join(lines[-3:]) or f"exit status {code}"
            raise KgError(f"writing the reports and figures failed: {tail}")

    def stop(self) -> None:
        """Kill the process if it is still running (the build failed), and clean up."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._errors.close()


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
