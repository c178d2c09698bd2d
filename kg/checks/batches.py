"""A large build derives in batches of models, in memory, on all cores (decision 29).

The rules of scope `model` (`kg.checks.derive`) conclude about one model at a time from that
model's own statements and the shared ones (ontology, licenses, frameworks, claims, imports).
So a large dataset is split as it streams in:

- every quad whose subject is one model's own resource (`kg.mapping.paper.model_owner`: the
  model, its Table 3 assessments, its Table 2 measurements) goes to the batch of its model,
  `BATCH_MODELS` models to a batch in the order the sources name them; so does every quad
  that links another resource to a model's own (an import's judgment `gao:judgedModel` the
  model, an identity link to it): in other batches the record is not about any of their models,
  and a rule cannot conclude there that the model lacks what its own statements say;
- every other quad is shared, and goes with every batch. Quads with blank nodes (the ontology's
  class expressions) are shared and canonicalised on their own first, as `load_asserted` does;
  they are kept apart and added as parsed, since a store's loader would rename their nodes.

Each batch (its quads and the shared ones) is loaded into an in-memory store in a worker
process, the model rules run on it, and what they derive is written as N-Quads, which the build
bulk-loads into the release's on-disk store, with the batch's own quads, while the workers go
on. The `dataset` rules then run once on the on-disk store. The union of the batches is the dataset
and the union of their conclusions is what the rules conclude on the whole dataset
(`tests/test_batches.py` holds the two builds to the same release id).

Batching pays when the models' own statements outweigh the shared ones (paper-shaped sources:
125 of a model's own against some 12,000 shared); a dataset that is mostly shared statements
(a Hub import, whose repositories are not split) is derived on the on-disk store as before.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import pyoxigraph as ox

from kg.checks.derive import run_rules
from kg.mapping.paper import model_owner
from kg.store import OxigraphStore
from kg.vocab.namespaces import Base

BATCH_MODELS = 1_000  # models per batch: about 450,000 quads in memory, some 250 MB
SHARED_RATIO = 4  # batch only when the models' own quads are at least this many times the shared
_FLUSH = 4_096  # quads buffered per file before they are serialised


def has_blank(q: ox.Quad) -> bool:
    return (
        isinstance(q.subject, ox.BlankNode)
        or isinstance(q.object, ox.BlankNode)
        or isinstance(q.graph_name, ox.BlankNode)
    )


def canonical_blank(quads: list[ox.Quad]) -> ox.Dataset:
    """The quads with blank nodes of a dataset, their nodes named by RDFC-1.0 on their own: a
    blank node's canonical name depends only on the quads that mention blank nodes, so this
    names them as canonicalising the whole dataset would."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _worth(owned: int, shared: int) -> bool:
    """Whether models' own quads outweigh the shared ones enough to derive in batches (each
    batch loads the shared quads again)."""
    return owned > 0 and owned >= SHARED_RATIO * shared


class _Spill:
    """Quads to one N-Quads file, serialised natively a few thousand at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: BinaryIO = path.open("wb")
        self._buffer: list[ox.Quad] = []

    def add(self, q: ox.Quad) -> None:
        self._buffer.append(q)
        self.count += 1
        if len(self._buffer) >= _FLUSH:
            self.flush()

    def add_all(self, quads: Iterable[ox.Quad]) -> None:
        for q in quads:
            self.add(q)

    def flush(self) -> None:
        if self._buffer:
            ox.serialize(self._buffer, self._file, ox.RdfFormat.N_QUADS)
            self._buffer = []

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()


@dataclass
class Partition:
    """The asserted dataset split into shared quads (those with blank nodes apart) and batches
    of models' own quads, each an N-Quads file in `folder`."""

    folder: Path
    shared: Path
    blank: Path
    batches: list[Path] = field(default_factory=list)
    shared_quads: int = 0
    owned_quads: int = 0
    models: int = 0

    @property
    def worth_batching(self) -> bool:
        """Whether the models' own quads outweigh the shared ones enough to work in batches."""
        return _worth(self.owned_quads, self.shared_quads)

    def load_shared(self, store: OxigraphStore) -> None:
        """Add the shared quads to `store`, their blank nodes named as in the file."""
        store.load_file(self.shared, ox.RdfFormat.N_QUADS)
        store.add_quads(ox.parse(path=str(self.blank), format=ox.RdfFormat.N_QUADS))

    def load_all(self, store: OxigraphStore) -> None:
        """Add every asserted quad to `store`."""
        self.load_shared(store)
        for batch in self.batches:
            store.load_file(batch, ox.RdfFormat.N_QUADS)


def partition(
    quads: Iterable[ox.Quad], base: Base, folder: Path, batch_models: int | None = None
) -> Partition:
    """Split `quads` (streamed, not held) into the shared file and one file per batch of
    `batch_models` models (BATCH_MODELS if None) in `folder`, which must exist. A resource of
    no model that links to exactly one model (an import's judgment or record) goes whole with
    that model: its statements are read back from the shared file once the stream ends."""
    size = batch_models or BATCH_MODELS
    shared = _Spill(folder / "shared.nq")
    blank_spill = _Spill(folder / "blank.nq")
    batches: list[_Spill] = []
    batch_of: dict[str, int] = {}
    linked: dict[ox.NamedNode, set[int]] = {}  # resource of no model -> the batches it links to
    blank: list[ox.Quad] = []
    try:
        for q in quads:
            if has_blank(q):
                blank.append(q)
                continue
            own = model_owner(base.base, q.subject)
            owner = own or model_owner(base.base, q.object)
            if owner is None:
                shared.add(q)
                continue
            index = batch_of.get(owner)
            if index is None:
                index = batch_of[owner] = len(batch_of) // size
                if index == len(batches):
                    batches.append(_Spill(folder / f"batch-{index:06d}.nq"))
            batches[index].add(q)
            if own is None and isinstance(q.subject, ox.NamedNode):  # it links to the model
                linked.setdefault(q.subject, set()).add(index)
        if blank:
            blank_spill.add_all(canonical_blank(blank))
        shared.close()
        moving = {s: next(iter(b)) for s, b in linked.items() if len(b) == 1}
        owned = sum(b.count for b in batches)
        if moving and _worth(owned, shared.count + len(blank)):  # else it is loaded whole
            kept = _Spill(folder / "shared-kept.nq")
            try:
                for q in ox.parse(path=str(shared.path), format=ox.RdfFormat.N_QUADS):
                    to = moving.get(q.subject)
                    if to is None:
                        kept.add(q)
                    else:
                        batches[to].add(q)
            finally:
                kept.close()
            kept.path.replace(shared.path)
            shared.count = kept.count
    finally:
        for spill in (shared, blank_spill, *batches):
            spill.close()
    return Partition(
        folder,
        shared.path,
        blank_spill.path,
        [b.path for b in batches],
        shared.count + blank_spill.count,
        sum(b.count for b in batches),
        len(batch_of),
    )


def _derive_batch(part: Partition, batch: Path, out: Path, base: str) -> Path:
    """In a worker: load a batch and the shared quads into memory, run the model rules and
    write what they derive to `out` (N-Quads)."""
    store = OxigraphStore.in_memory()
    part.load_shared(store)
    store.load_file(batch, ox.RdfFormat.N_QUADS)
    derived = _Spill(out)
    try:
        run_rules(store, Base(base), scope="model", also=derived.add)
    finally:
        derived.close()
    return out


def default_workers() -> int:
    """One worker per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)))


R = TypeVar("R")


def in_order(
    fn: Callable[..., R],
    jobs: Iterable[tuple[Any, ...]],
    workers: int,
    started: Callable[[], None] = lambda: None,
) -> Iterator[R]:
    """`fn(*job)` for each job, yielded in order: in this process with one worker, else in
    `workers` processes, at most `workers + 1` jobs ahead of the caller. `started` is called
    once the workers exist.

    The workers are forked, not spawned (a spawned worker imports the caller's main module
    again, and would start a build in a script without a main guard), so `started` is where to
    open an on-disk store: no RocksDB thread is running when they are forked."""
    if workers <= 1:
        started()
        for job in jobs:
            yield fn(*job)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        todo = iter(jobs)
        pending: deque[Future[R]] = deque()
        try:
            pending.extend(pool.submit(fn, *job) for job in itertools.islice(todo, workers + 1))
            started()  # the first submit forked every worker
            while pending:
                result = pending.popleft().result()
                pending.extend(pool.submit(fn, *job) for job in itertools.islice(todo, 1))
                yield result
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def derive_in_batches(
    path: Path,
    part: Partition,
    base: Base,
    workers: int | None = None,
    step: Callable[[str], None] = lambda _msg: None,
) -> OxigraphStore:
    """A new on-disk store at `path` holding every batch's quads, asserted and derived: the
    model rules run batch by batch in `workers` processes (`in_order`), and each batch is
    bulk-loaded into the store as it is done; then the dataset rules run on the store."""
    assert part.batches, "derive_in_batches needs at least one batch (Partition.worth_batching)"
    opened: list[OxigraphStore] = []

    def open_store() -> None:  # once the workers are forked
        opened.append(OxigraphStore.create(path))
        part.load_shared(opened[0])

    jobs = [
        (part, batch, part.folder / f"derived-{i:06d}.nq", base.base)
        for i, batch in enumerate(part.batches)
    ]
    try:
        results = in_order(_derive_batch, jobs, workers or default_workers(), open_store)
        for done, (job, out) in enumerate(zip(jobs, results, strict=True), start=1):
            opened[0].load_file(job[1], ox.RdfFormat.N_QUADS)
            opened[0].load_file(out, ox.RdfFormat.N_QUADS)
            out.unlink()
            if done % 10 == 0 or done == len(jobs):
                step(f"derived {done} of {len(jobs)} batches")
        run_rules(opened[0], base, scope="dataset")
    except BaseException:
        for store in opened:
            store.close()
        raise
    return opened[0]
