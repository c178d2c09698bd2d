"""Every library question, check and page question at synthetic N: is its cost linear in models?

For each N, paper-shaped sources (`synth_paper.py`: Tables 2-3 with N models, Table 3's
frequencies) are built into a release with `kg build` (its own process), and every case of the
compliance suite that runs on a release (`tests/compliance.py`: the questions of `queries/`,
`queries/checks/` and `queries/pages/`, with their default parameters and with their header's
example values) is run on the release's store, read-only, as `kg query` runs it: its answer read
to the last row. Printed: CPU seconds and rows per case at each N, the ratio of seconds from one
N to the next beside the ratio of N, and the cases whose time grows faster than N (ratio over
twice N's, among those taking over `--floor` seconds at the largest N, so that timer noise on
millisecond queries is not read as growth). The derivation rules are timed one by one by the
build itself and by `bench_checks.py`.

With `--baseline REF` each case is also run with its query text as it is at git commit REF
(same parameters, same store), alternating round by round with this checkout's, and the ratio
baseline/this is printed beside it; a case whose rows differ between the two is named (a faster
query that answers differently is not an improvement).

    python benchmarks/bench_library.py [--n 500 2000 8000] [--work DIR] [--rounds 3]
        [--floor 0.05] [--baseline REF] [--reuse] [--json FILE]

The time of a case is the median of `--rounds` runs after one warm-up run, in CPU seconds of
this process (the store evaluates a query in the calling thread): on a shared machine wall time
swings several-fold with the load, and its ratios then say nothing about growth. `--reuse` takes
releases already built in `--work` (`out-N`) instead of building them again.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_paper import synth_sources  # noqa: E402

from compliance import Case, cases, cell  # noqa: E402
from kg.release.release import Release  # noqa: E402
from kg.store.endpoint import query_form  # noqa: E402
from kg.store.queries import QueryFile, parse_query_file  # noqa: E402


def release_cases() -> list[Case]:
    """The compliance cases that are questions asked of a built release."""
    return [c for c in cases() if not c.query.name.startswith("derive/")]


def build(n: int, work: Path, reuse: bool) -> tuple[Path, float]:
    out = work / f"out-{n}"
    if reuse and (out / "current").exists():
        return out, 0.0
    src = synth_sources(n, work / f"sources-{n}")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kg", "build", "--sources", str(src), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=work,
    )
    return out, time.perf_counter() - started


def answer(
    store: Any, query: QueryFile, params: dict[str, str], prefixes: dict[str, str]
) -> list[Any]:
    """Run the query and read its whole answer: its rows as text (triples for a graph)."""
    terms = query.bindings(params, prefixes)
    form = query_form(query.text)
    if form == "SELECT":
        result = store.select(query, terms)
        return [tuple(cell(r.get(v)) for v in result.variables) for r in result.rows]
    if form in ("CONSTRUCT", "DESCRIBE"):
        return sorted(
            (cell(t.subject), cell(t.predicate), cell(t.object))
            for t in store.construct(query, terms)
        )
    return [store.ask(query, terms)]


def baseline_query(case: Case, ref: str, folder: Path) -> QueryFile | None:
    """The case's query as it is at commit `ref` (None where the file did not exist)."""
    relative = case.query.path.resolve().relative_to(ROOT)
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{relative}"], capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(shown.stdout, encoding="utf-8")
    return parse_query_file(path, case.query.name)


def time_cases(
    out: Path, rounds: int, baselines: dict[str, QueryFile | None]
) -> dict[str, dict[str, Any]]:
    release = Release.current(out)
    store = release.open_store()
    prefixes = release.base.prefixes()
    figures: dict[str, dict[str, Any]] = {}
    for case in release_cases():
        versions = {"this": case.query}
        if baselines.get(case.id) is not None:
            versions["baseline"] = baselines[case.id]  # type: ignore[assignment]
        rows = {name: answer(store, q, case.params, prefixes) for name, q in versions.items()}
        times: dict[str, list[float]] = {name: [] for name in versions}
        for _ in range(rounds):
            for name, query in versions.items():  # alternate, so that load hits both alike
                started = time.process_time()
                answer(store, query, case.params, prefixes)
                times[name].append(time.process_time() - started)
        entry: dict[str, Any] = {
            "seconds": statistics.median(times["this"]),
            "rows": len(rows["this"]),
        }
        if "baseline" in versions:
            entry["baseline"] = statistics.median(times["baseline"])
            same = rows["this"] == rows["baseline"] or sorted(rows["this"], key=repr) == sorted(
                rows["baseline"], key=repr
            )
            entry["same_rows"] = same
        figures[case.id] = entry
    return figures


def report(table: dict[int, dict[str, dict[str, Any]]], floor: float) -> None:
    ns = list(table)
    ids = list(table[ns[0]])
    with_base = any("baseline" in e for t in table.values() for e in t.values())
    print(f"\n{'case':42}" + "".join(f"{'N=' + str(n):>19}" for n in ns), end="")
    print("   per step" + ("   baseline/this at each N" if with_base else ""))
    for cid in ids:
        cells = "".join(f"{table[n][cid]['seconds']:10.3f}s {table[n][cid]['rows']:>7}" for n in ns)
        steps = " ".join(
            f"x{table[b][cid]['seconds'] / table[a][cid]['seconds']:.1f}"
            if table[a][cid]["seconds"] > 0
            else "-"
            for a, b in itertools.pairwise(ns)
        )
        line = f"{cid:42}{cells}   {steps:9}"
        if with_base:
            line += "   " + " ".join(
                (
                    f"x{table[n][cid]['baseline'] / max(table[n][cid]['seconds'], 1e-6):.1f}"
                    + ("" if table[n][cid]["same_rows"] else " ROWS DIFFER")
                )
                if "baseline" in table[n][cid]
                else "new"
                for n in ns
            )
        print(line)
    print("\nN per step: " + " ".join(f"x{b / a:g}" for a, b in itertools.pairwise(ns)))
    last = ns[-1]
    superlinear = [
        cid
        for cid in ids
        if table[last][cid]["seconds"] >= floor
        and any(
            table[a][cid]["seconds"] > 0
            and table[b][cid]["seconds"] / table[a][cid]["seconds"] > 2 * (b / a)
            for a, b in itertools.pairwise(ns)
        )
    ]
    slowest = sorted(ids, key=lambda c: -table[last][c]["seconds"])[:8]
    named = ", ".join(f"{c} {table[last][c]['seconds']:.2f}s" for c in slowest)
    print(f"slowest at N={last} (CPU): {named}")
    print("growing faster than N: " + (", ".join(superlinear) if superlinear else "none"))
    for n in ns:
        totals = [sum(e[k] for e in table[n].values() if k in e) for k in ("seconds", "baseline")]
        differ = [cid for cid, e in table[n].items() if e.get("same_rows") is False]
        if with_base:
            print(
                f"N={n}: all cases {totals[0]:.2f} s, baseline {totals[1]:.2f} s"
                + (f"; rows differ: {', '.join(differ)}" if differ else "; same rows")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[500, 2000, 8000])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floor", type=float, default=0.05)
    parser.add_argument(
        "--baseline", default=None, help="a git commit whose query texts to compare"
    )
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-library-"))
    work.mkdir(parents=True, exist_ok=True)
    baselines: dict[str, QueryFile | None] = {}
    if args.baseline:
        folder = Path(tempfile.mkdtemp(prefix="kg-bench-library-base-"))
        baselines = {c.id: baseline_query(c, args.baseline, folder) for c in release_cases()}
    table: dict[int, dict[str, dict[str, Any]]] = {}
    for n in args.n:
        out, seconds = build(n, work, args.reuse)
        print(f"N={n}: " + (f"built in {seconds:.1f} s" if seconds else "reused"), flush=True)
        table[n] = time_cases(out, args.rounds, baselines)
        total = sum(e["seconds"] for e in table[n].values())
        print(f"N={n}: {len(table[n])} cases, {total:.2f} CPU s in all", flush=True)
    report(table, args.floor)
    if args.json:
        args.json.write_text(json.dumps({str(n): table[n] for n in table}, indent=2))


if __name__ == "__main__":
    main()
