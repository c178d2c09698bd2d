"""The build's reports and figures at N: each query they read, timed on releases of several sizes.

`kg build` writes the consistency report and four figures (`kg.outputs.reports.write_reports`);
a large build does it in a process of its own from the finished on-disk store (decision 30).
This times every query behind them on the stores of releases already built (for example by
`bench_scale.py --paper 10000 100000 --keep`, or `bench_library.py`'s `out-N`), read-only, as
the report process reads them: its answer read to the last row, in CPU seconds of this process
(the store evaluates in the calling thread), with the peak RSS after each. Printed per query:
seconds and rows at each release, and the ratio of seconds from one release to the next beside
the ratio of their numbers of models (equal ratios: linear cost).

    python benchmarks/bench_reports.py OUT [OUT ...]

Each OUT is a build's output folder (its `current` release is read), smallest first.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import time
from collections.abc import Callable
from pathlib import Path

from kg.checks.sparql_checks import errata_checks, run_checks
from kg.outputs.reports import solutions, table3_bands, table3_extent
from kg.release.release import Release
from kg.store import OxigraphStore


def _count(store: OxigraphStore, name: str) -> int:
    return sum(1 for _ in solutions(store, name))


def cases(store: OxigraphStore) -> dict[str, tuple[float, int]]:
    """CPU seconds and rows of each query behind the reports, on one store; "(models)": the
    number of models in Table 3."""
    out: dict[str, tuple[float, int]] = {}

    def timed(label: str, rows: Callable[[], int]) -> None:
        t = time.process_time()
        n = rows()
        out[label] = (time.process_time() - t, n)

    timed("errata checks", lambda: sum(len(r.rows) for r in run_checks(store, errata_checks())))
    timed("figure4", lambda: _count(store, "figure4"))
    t = time.process_time()
    extent = table3_extent(store)
    out["internal/table3-extent"] = (time.process_time() - t, 1)
    timed("internal/table3-bands", lambda: sum(1 for _ in table3_bands(store, extent)))
    timed("internal/definition-verdicts", lambda: _count(store, "internal/definition-verdicts"))
    timed("coverage", lambda: _count(store, "coverage"))
    out["(models)"] = (0.0, extent.models)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outs", type=Path, nargs="+", help="build output folders, smallest first")
    args = parser.parse_args()
    runs = []
    for out in args.outs:
        store = Release.current(out).open_store()
        try:
            figures = cases(store)
        finally:
            store.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        models = figures.pop("(models)")[1]
        print(f"{out}: {models:,} models, peak RSS so far {peak:,.0f} MB", flush=True)
        runs.append((models, figures))
    print(f"\n{'query':<32}" + "".join(f"{m:>15,} models" for m, _ in runs) + "   ratios")
    for name in runs[0][1]:
        cells = "".join(f"{f[name][0]:>10.1f} s {f[name][1]:>9,}" for _, f in runs)
        ratios = "  ".join(
            f"x{b[1][name][0] / a[1][name][0]:.1f} (N x{b[0] / a[0]:.0f})"
            for a, b in itertools.pairwise(runs)
            if a[1][name][0] > 0
        )
        print(f"{name:<32}{cells}   {ratios}")


if __name__ == "__main__":
    main()
