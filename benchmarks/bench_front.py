"""The linked-data layer's cost as the number of models grows, side by side with the smallest N.

For each N, on paper-shaped synthetic sources (benchmarks/synth_paper.py, N models):
  derive     : every rule of queries/derive/ but the last, on an in-memory store (reference)
  labels     : the labels rule (queries/derive/95-labels.rq) alone, after the others
  describe   : every resource's Turtle document with its incoming links (kg.outputs.linked)
  badges     : every model's badge (queries/pages/model-badge.rq once, as kg publish does)
  overview   : the home page's overview (queries/pages/overview-models.rq, search-index.rq), its
               first page as HTML, overview.json and search.json (kg.outputs.overview)
Prints seconds per step and the cost per model as a ratio to the smallest N's: about 1.0 means
linear in the number of models.

With --browser N..., the home page of N synthetic models (no derivation: the overview needs
none) is served by a plain static server and driven in headless Chromium (tests/browser.py):
milliseconds to load it until the table is ready, to search (one word typed), to filter by a
developer, to go to the next page and to sort by year, and the size of overview.json.

    python benchmarks/bench_front.py [--models 40 400 2000] [--browser 1000 10000]

Measured 2026-11-30 on the shared 2-core machine (load about 6), headless Chromium, times
including Selenium's round trips:

    models  overview.json   load  search  filter  next page  sort   (ms)
      1000         330 KB   1865     330     304        307   265
     10000        3330 KB   2308     632     290        332   620

and the overview step (queries, first page, both JSON files) at 40 / 400 / 1000 models:
0.12 / 1.5 / 3.1 s, 1.04x per model at 1000 (linear).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).parent))
from synth_paper import synth_sources

from kg.checks.derive import rules
from kg.outputs.badges import Badges
from kg.outputs.linked import described_triples, document_iri, serialize
from kg.outputs.overview import write_home
from kg.outputs.pages import Site
from kg.release.build import assemble
from kg.store import OxigraphStore
from kg.vocab.namespaces import DEFAULT_BASE, GAO, RDF, Base


def one(n: int) -> dict[str, float]:
    base = Base(DEFAULT_BASE)
    with tempfile.TemporaryDirectory(prefix="kg-bench-front-") as tmp:
        sources = synth_sources(n, Path(tmp) / "sources")
        quads = assemble(sources)
    store = OxigraphStore.in_memory()
    store.add_quads(quads)
    times: dict[str, float] = {}
    *others, labels = rules()
    t = time.perf_counter()
    for rule in others:
        graph = base.graph("derived", rule.slug)
        store.add_quads(
            ox.Quad(x.subject, x.predicate, x.object, graph) for x in store.run(rule.query)
        )
    times["derive"] = time.perf_counter() - t
    t = time.perf_counter()
    graph = base.graph("derived", labels.slug)
    store.add_quads(
        ox.Quad(x.subject, x.predicate, x.object, graph) for x in store.run(labels.query)
    )
    times["labels"] = time.perf_counter() - t
    site = Site(store, base, folders=True)
    t = time.perf_counter()
    for iri in site.subjects():
        doc = document_iri(iri, "ttl", base)
        serialize(site, described_triples(site, iri, doc, "text/turtle", base), "ttl")
    times["describe"] = time.perf_counter() - t
    kind = ox.NamedNode(GAO + "AIModel")
    models = sorted(
        {
            q.subject.value
            for q in store.quads()
            if q.object == kind and q.predicate.value == RDF + "type"
            if isinstance(q.subject, ox.NamedNode)
        }
    )
    badges = Badges(store, base)
    t = time.perf_counter()
    for openness in badges.all().values():
        badges.image(openness)
    assert len(badges.all()) == len(models)
    times["badges"] = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kg-bench-front-") as tmp:
        write_home(site, Path(tmp), [])
    times["overview"] = time.perf_counter() - t
    return times


def synthetic_home(n: int, folder: Path) -> None:
    """The static home page (index.html, overview.json, search.json) of n synthetic models."""
    with tempfile.TemporaryDirectory(prefix="kg-bench-front-") as tmp:
        quads = assemble(synth_sources(n, Path(tmp) / "sources"))
    store = OxigraphStore.in_memory()
    store.add_quads(quads)
    write_home(Site(store, Base(DEFAULT_BASE), folders=True), folder, [])


def browse(n: int) -> dict[str, float]:
    """Milliseconds for what a reader does on the home page of n models, in headless Chromium."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from static_hosts import PlainStaticServer

    from browser import driver, quit_driver

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kg-bench-front-") as tmp:
        folder = Path(tmp)
        synthetic_home(n, folder)
        out["json_kb"] = (folder / "overview.json").stat().st_size / 1000
        with PlainStaticServer(folder) as host:
            b = driver()
            try:
                count = lambda: b.find_element(By.ID, "overview-count").text  # noqa: E731

                def timed(name: str, action: Callable[[], None], done: Callable[[], bool]) -> None:
                    t = time.perf_counter()
                    action()
                    WebDriverWait(b, 120, poll_frequency=0.005).until(lambda _b: done())
                    out[name] = (time.perf_counter() - t) * 1000

                ready = lambda: b.find_element(By.ID, "overview").get_attribute("data-ready")  # noqa: E731
                timed("load", lambda: b.get(host.url), lambda: ready() == "1")
                box = b.find_element(By.ID, "overview-search")
                timed(
                    "search",
                    lambda: box.send_keys("llama"),
                    lambda: count() != f"{n} of {n} models",
                )
                timed("clear", box.clear, lambda: True)
                box.send_keys(" ")
                WebDriverWait(b, 60).until(lambda _b: count() == f"{n} of {n} models")
                select = Select(b.find_element(By.CSS_SELECTOR, "select[data-filter=developer]"))
                timed(
                    "filter",
                    lambda: select.select_by_index(1),
                    lambda: count() != f"{n} of {n} models",
                )
                select.select_by_index(0)
                WebDriverWait(b, 60).until(lambda _b: count() == f"{n} of {n} models")
                page = lambda: b.find_element(By.ID, "overview-page").text  # noqa: E731
                timed(
                    "next page",
                    lambda: b.find_element(By.ID, "overview-next").click(),
                    lambda: page() == "2",
                )
                year = b.find_elements(By.CSS_SELECTOR, "#overview thead th")[2]
                timed("sort", year.click, lambda: year.get_attribute("data-sort") == "up")
            finally:
                quit_driver(b)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[40, 400, 2000])
    parser.add_argument("--browser", type=int, nargs="*", default=[], metavar="N")
    args = parser.parse_args()
    if args.browser:
        names = ("json_kb", "load", "search", "filter", "next page", "sort")
        print("models  " + "  ".join(f"{s:>10}" for s in names) + "   (ms; overview.json in KB)")
        for n in args.browser:
            got = browse(n)
            print(f"{n:6}  " + "  ".join(f"{got[s]:10.0f}" for s in names), flush=True)
        return
    steps = ("derive", "labels", "describe", "badges", "overview")
    results = {n: one(n) for n in args.models}
    first = args.models[0]
    print("models  " + "  ".join(f"{s:>18}" for s in steps))
    for n, times in results.items():
        cells = []
        for s in steps:
            ratio = (times[s] / n) / (results[first][s] / first)
            cells.append(f"{times[s]:8.3f} s ({ratio:4.2f}x)")
        print(f"{n:6}  " + "  ".join(cells))
    print(f"(x: cost per model relative to N={first}; about 1.0 is linear)")


if __name__ == "__main__":
    main()
