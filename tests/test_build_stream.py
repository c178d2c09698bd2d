"""The streaming build's parts (decision 23): sources streamed into the store with only the
blank-node quads canonicalised, and dumps whose order does not depend on the order of loading."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.release.build as build_module
from conftest import Built
from kg.release.build import (
    assemble,
    asserted_quads,
    build,
    load_asserted,
    on_disk,
    trig_from_nquads,
    working_store,
)
from kg.store import OxigraphStore

EX = "https://example.org/"


def test_streamed_load_names_blank_nodes_as_the_whole_dataset_would():
    """Canonicalising only the quads with blank nodes gives the same dataset as canonicalising
    everything (the list `assemble` makes), on the paper's sources and their OWL expressions."""
    store = OxigraphStore.in_memory()
    held_back = load_asserted(store, asserted_quads())
    assert held_back > 0  # the ontology's class expressions
    streamed = {str(q) for q in store.quads()}
    whole = {str(q) for q in assemble()}
    assert streamed == whole
    assert any(isinstance(q.subject, ox.BlankNode) for q in store.quads())


def _quads() -> list[ox.Quad]:
    p, o = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o")
    quads = []
    for g in range(3):
        graph = ox.NamedNode(f"{EX}graph/{g}")
        for i in range(200):
            s = ox.NamedNode(f"{EX}s/{i % 37}")
            value = ox.Literal(f"a text long enough not to be inlined, number {i}", language="en")
            quads.append(ox.Quad(s, p, value if i % 2 else ox.Literal(str(i)), graph))
        bnode = ox.BlankNode(f"b{g}")  # as parsed: labels that differ from run to run
        quads += [ox.Quad(o, p, bnode, graph), ox.Quad(bnode, p, ox.Literal(str(g)), graph)]
    return quads


def _load_and_dump(folder: Path, quads: list[ox.Quad]) -> dict[str, bytes]:
    store = OxigraphStore.create(folder / "store")
    load_asserted(store, iter(quads))
    dumps = {}
    for name, fmt in (("d.nq", ox.RdfFormat.N_QUADS), ("d.trig", ox.RdfFormat.TRIG)):
        store.dump(folder / name, fmt, prefixes={"ex": EX})
        dumps[name] = (folder / name).read_bytes()
    store.dump(folder / "g.ttl", ox.RdfFormat.TURTLE, graph=ox.NamedNode(f"{EX}graph/1"))
    dumps["g.ttl"] = (folder / "g.ttl").read_bytes()
    store.close()
    return dumps


def test_dumps_do_not_depend_on_the_order_of_loading(tmp_path: Path):
    quads = _quads()
    shuffled = quads[:]
    random.Random(7).shuffle(shuffled)
    renamed = [  # the same blank nodes under other labels, as another parse would give them
        ox.Quad(
            ox.BlankNode("x" + q.subject.value)
            if isinstance(q.subject, ox.BlankNode)
            else q.subject,
            q.predicate,
            ox.BlankNode("x" + q.object.value) if isinstance(q.object, ox.BlankNode) else q.object,
            q.graph_name,
        )
        for q in reversed(quads)
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    a = _load_and_dump(tmp_path / "a", quads)
    b = _load_and_dump(tmp_path / "b", shuffled)
    c = _load_and_dump(tmp_path / "c", renamed)
    assert a == b == c
    parsed = list(ox.parse(a["d.nq"], format=ox.RdfFormat.N_QUADS))
    assert len(parsed) == len(set(quads))
    # the graph's triples only, and no blank node label from the input survives
    assert b"graph/0" not in a["g.ttl"] and b"_:b1" not in a["d.nq"]


def test_definitions_figure_stays_drawable_at_any_number_of_models(tmp_path: Path):
    """Thousands of models: the matrix is drawn in bands of models at a bounded size (it grew
    0.22 in per model, past the image size matplotlib could draw, at about 2,000 models)."""
    from PIL import Image

    from kg.outputs.reports import definitions_matrix

    verdicts = ("conformant", "not-conformant", "undetermined")
    rows = [
        {"name": f"model {i:05}", "definition": f"{EX}def#d{j}", "verdict": verdicts[(i + j) % 3]}
        for i in range(3000)
        for j in range(3)
    ]
    paths = definitions_matrix(rows, tmp_path / "definitions")
    png = next(p for p in paths if p.suffix == ".png")
    with Image.open(png) as image:
        assert image.height < 3000


def test_paper_tables_are_mapped_row_by_row_not_collected():
    """Tables 2 and 3 stream into the store a model and a row at a time: at 100,000 models a
    list of their quads held millions of Python objects (the 4 GB peak of issue 14). The quads
    of the first model come out before the mapper has read the second one."""
    from kg.mapping.paper import Mapper
    from kg.paths import resource_dir
    from kg.sources.loader import load_sources
    from kg.vocab.namespaces import DEFAULT_BASE, Base
    from kg.vocab.ontology import load_ontology, vocabulary

    vocab = vocabulary(load_ontology())
    src = load_sources(resource_dir("sources"), vocab)

    class Watched(list):
        read = 0

        def __iter__(self):
            for item in super().__iter__():
                Watched.read += 1
                yield item

    src.models = Watched(src.models)
    stream = Mapper(Base(DEFAULT_BASE), vocab).sources(src)
    first = Base(DEFAULT_BASE).iri("model", src.models[0].id)
    for q in stream:
        if q.subject == first:
            break
    assert Watched.read == 1, "Table 2's quads were collected before the first was handed on"


def test_small_data_is_loaded_in_memory_and_large_data_through_the_split_to_disk(
    tmp_path: Path,
):
    """The same quads, blank nodes named alike, whether loaded in memory (a small build) or
    split into files and bulk-loaded into the on-disk store (a large build not worth deriving
    in batches: `_large_store`)."""
    from kg.release.build import _large_store
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    quads = _quads()
    small = working_store(iter(quads))
    assert small.path is None
    large, batched = _large_store(
        tmp_path / "large", iter(quads), Base(DEFAULT_BASE), lambda _msg: None
    )
    assert not batched and large.path == tmp_path / "large" and (tmp_path / "large").is_dir()
    assert not (tmp_path / ".batches").exists()  # the split's files are gone
    assert {str(q) for q in small.quads()} == {str(q) for q in large.quads()}
    copied = on_disk(small, tmp_path / "copied")
    assert copied.path == tmp_path / "copied"
    assert {str(q) for q in copied.quads()} == {str(q) for q in large.quads()}
    assert on_disk(large, tmp_path / "elsewhere") is large


def test_the_paper_built_in_memory_is_the_release_built_on_disk(
    built: Built, tmp_path: Path, monkeypatch
):
    """Derived in memory and copied to disk (the session's build of the paper), or streamed
    and derived on disk: byte-identical dumps (the same build id), figures and report
    (decision 27)."""
    monkeypatch.setattr(build_module, "SMALL_BUILD", 1_000)
    streamed = build(out=tmp_path / "disk")
    in_memory = built.result
    assert in_memory.build_id == streamed.build_id
    assert in_memory.graphs == streamed.graphs and in_memory.counts == streamed.counts
    for name in ("reports/errata.md", "figures/table3-heatmap.png", "figures/definitions.svg"):
        assert (in_memory.release / name).read_bytes() == (streamed.release / name).read_bytes()


def test_trig_written_from_the_nquads_dump_is_the_store_s_own(tmp_path: Path):
    dumps = _load_and_dump(tmp_path, _quads())  # the store's own N-Quads and TriG
    trig_from_nquads(tmp_path / "d.nq", tmp_path / "again.trig", {"ex": EX})
    assert (tmp_path / "again.trig").read_bytes() == dumps["d.trig"]


def test_a_report_process_that_fails_fails_the_build_with_its_error(tmp_path: Path):
    """A large build writes its reports in a process of their own (kg.outputs.report_process);
    when that process fails, waiting for it raises its own message, not a silent gap."""
    from kg.errors import KgError
    from kg.release.build import ReportProcess, finished

    store = OxigraphStore.create(tmp_path / "store")
    read_only = finished(store)
    shutil.rmtree(tmp_path / "store")  # gone before the process opens it
    process = ReportProcess(read_only, tmp_path)
    with pytest.raises(KgError, match=r"reports and figures failed: no built store at .*store"):
        process.wait()
    process.stop()
    read_only.close()


def test_the_report_process_reads_only_a_finished_store(tmp_path: Path):
    """Regression (100,000 models): the report process read the on-disk store while the build
    still had it open for writing, and failed with `std::bad_alloc` in the store's engine. The
    build now closes the store and opens it read-only (`finished`) before the dumps and the
    report process read it, and a report process is never started on a writable store."""
    from kg.release.build import ReportProcess, finished

    writable = OxigraphStore.create(tmp_path / "store")
    writable.add_quads([ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("o"))])
    with pytest.raises(ValueError, match="finished on-disk store"):
        ReportProcess(writable, tmp_path)
    done = finished(writable)
    assert done.read_only and done.path == tmp_path / "store"
    assert len(list(done.quads())) == 1  # what was written is there
    done.close()
