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

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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
        """Whether the models' own quads outweigh the shared ones enough to derive in batches
        (each batch loads the shared quads again)."""
        return bool(self.batches) and self.owned_quads >= SHARED_RATIO * self.shared_quads

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
    `batch_models` models (BATCH_MODELS if None) in `folder`, which must exist."""
    size = batch_models or BATCH_MODELS
    shared = _Spill(folder / "shared.nq")
    blank_spill = _Spill(folder / "blank.nq")
    batches: list[_Spill] = []
    batch_of: dict[str, int] = {}
    blank: list[ox.Quad] = []
    try:
        for q in quads:
            if has_blank(q):
                blank.append(q)
                continue
            owner = model_owner(base.base, q.subject) or model_owner(base.base, q.object)
            if owner is None:
                shared.add(q)
                continue
            index = batch_of.get(owner)
            if index is None:
                index = batch_of[owner] = len(batch_of) // size
                if index == len(batches):
                    batches.append(_Spill(folder / f"batch-{index:06d}.nq"))
            batches[index].add(q)
        if blank:  # named as canonicalising the whole dataset would (see load_asserted)
            dataset = ox.Dataset(blank)
            dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
            blank_spill.add_all(dataset)
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


def derive_in_batches(
    path: Path,
    part: Partition,
    base: Base,
    workers: int | None = None,
    step: Callable[[str], None] = lambda _msg: None,
) -> OxigraphStore:
    """A new on-disk store at `path` holding every batch's quads, asserted and derived: the
    model rules run batch by batch in `workers` processes, and each batch is bulk-loaded into
    the store as it is done; then the dataset rules run on the store. At most `workers + 1`
    batches' results wait on disk at a time.

    The workers are forked before the store is opened, so that no RocksDB thread is running
    when they are (forked, not spawned: a spawned worker would import the caller's main module
    again, and start a build in a script without a main guard)."""
    count = workers or default_workers()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        pending: list[tuple[Path, Future[Path]]] = []
        todo = iter(enumerate(part.batches))

        def submit() -> None:
            for i, batch in todo:
                out = part.folder / f"derived-{i:06d}.nq"
                pending.append((batch, pool.submit(_derive_batch, part, batch, out, base.base)))
                return

        try:
            for _ in range(count + 1):
                submit()  # the first forks every worker
            store = OxigraphStore.create(path)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        try:
            part.load_shared(store)
            done = 0
            while pending:
                batch, future = pending.pop(0)
                out = future.result()
                submit()
                store.load_file(batch, ox.RdfFormat.N_QUADS)
                store.load_file(out, ox.RdfFormat.N_QUADS)
                out.unlink()
                done += 1
                if done % 10 == 0 or done == len(part.batches):
                    step(f"derived {done} of {len(part.batches)} batches")
            run_rules(store, base, scope="dataset")
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            store.close()
            raise
    return store
