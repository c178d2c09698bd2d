"""A model's page and every question about one model, through `kg serve`, on a built release.

Starts `kg serve --store disk` (the workers open the release's store read-only) on a free
loopback port and times, in wall seconds: the model's HTML page (GET /model/NAME, which asks the
page questions of `queries/pages/model-*.rq` and `explain`; its first request, since the server
keeps the pages it made, then the median of `--rounds`), and (median of `--rounds` after one
warm-up) each library question that takes a `model` parameter, with its header's
example values, POSTed to /sparql as `kg query` binds it (`QueryFile.with_values`). With
`--baseline REF` each question is also run with its text at git commit REF, alternating with
this checkout's, and the ratio baseline/this is printed beside it. A question the server stops
at `--timeout` reads as `>T`; rows are counted from the SPARQL JSON answer, and a question whose
row count differs from the baseline's is named.

    python benchmarks/bench_model_page.py OUT [--model llama-2] [--rounds 5] [--timeout 60]
        [--baseline REF]

OUT is a folder `kg build` wrote (its `current` release is served). Figures at 100,000
paper-shaped models: `docs/scale.md`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from compliance import cases  # noqa: E402
from kg.store.queries import QueryFile, parse_query_file  # noqa: E402
from kg.vocab.namespaces import Base  # noqa: E402
from servers import KgServer  # noqa: E402


def fetch(url: str, data: bytes | None = None) -> tuple[float, bytes | None]:
    """(wall seconds, the body; None when the server refused or stopped the request)."""
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("Accept", "application/sparql-results+json")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=3600) as response:
            body = response.read()
    except urllib.error.HTTPError:
        body = None
    return time.perf_counter() - start, body


def rows(body: bytes | None) -> int | None:
    return None if body is None else len(json.loads(body)["results"]["bindings"])


def baseline_text(query: QueryFile, ref: str) -> QueryFile | None:
    relative = query.path.resolve().relative_to(ROOT)
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{relative}"], capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    path = Path("/tmp") / f"bench-model-page-{ref}-{query.name.replace('/', '-')}.rq"
    path.write_text(shown.stdout, encoding="utf-8")
    return parse_query_file(path, query.name)


def timed(
    url: str, data: bytes | None, rounds: int, timeout: float
) -> tuple[float | None, int | None]:
    """The median wall seconds (None when the server stopped the request at its time limit)
    and the rows of the last answer (None for a page)."""
    seconds, body = fetch(url, data)  # warm-up
    if body is None and seconds >= timeout * 0.9:
        return None, None
    times = []
    for _ in range(rounds):
        seconds, body = fetch(url, data)
        times.append(seconds)
    return statistics.median(times), rows(body) if data is not None else None


def shown(seconds: float | None, timeout: float) -> str:
    return f">{timeout:g}" if seconds is None else f"{seconds:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="llama-2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--baseline", default=None)
    args = parser.parse_args()
    prefixes = Base().prefixes()
    serve = ("--store", "disk", "--timeout", str(args.timeout), "--max-rows", "1000000")
    started = time.perf_counter()
    with KgServer(args.out, *serve, start_seconds=600) as server:
        print(f"kg serve --store disk started in {time.perf_counter() - started:.1f} s")
        # the server keeps pages it made: the first request is the one that asks the questions
        first, body = fetch(server.url + f"model/{args.model}")
        page, _ = timed(server.url + f"model/{args.model}", None, args.rounds, args.timeout)
        print(
            f"{'page /model/' + args.model:45s} first {first:.3f} s"
            f" ({len(body or b''):,} bytes), then {shown(page, args.timeout)} s (kept)"
        )
        for case in cases():
            if not case.params or "model" not in case.params:
                continue
            texts = {"this": case.query}
            old = baseline_text(case.query, args.baseline) if args.baseline else None
            if old is not None:
                texts["base"] = old
            seconds: dict[str, float | None] = {}
            counts: dict[str, int | None] = {}
            for side, query in texts.items():
                text = query.with_values(query.bindings(case.params, prefixes))
                body = urllib.parse.urlencode({"query": text}).encode()
                seconds[side], counts[side] = timed(
                    server.url + "sparql", body, args.rounds, args.timeout
                )
            line = "   ".join(
                f"{side} {shown(seconds[side], args.timeout):>8s} s {counts[side] or 0:>6} rows"
                for side in texts
            )
            if "base" in texts:
                this, base = seconds["this"], seconds["base"]
                ratio = f"x{base / this:8.1f}" if this and base else f"{'>':>9s}" if this else ""
                line += f"   base/this {ratio}"
                if None not in counts.values() and counts["this"] != counts["base"]:
                    line += "  ROWS DIFFER"
            print(f"{case.id:45s} {line}", flush=True)


if __name__ == "__main__":
    main()
