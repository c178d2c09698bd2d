"""`kg build` at scale, side by side with the build of an earlier commit (the baseline).

    python benchmarks/bench_scale.py [--hub 10000 100000 1000000] [--paper 100000]
        [--baseline REF] [--baseline-max 100000] [--paper-rounds 3] [--memory-gb 12] [--work DIR]
        [--keep]

Workloads: hub-shaped (`synth_hub.py` records imported with `kg import hf`, then built with the
paper's sources) and paper-shaped (`synth_paper.py`: the sources with N models in Tables 2-3).
Each build runs in its own process, once with this checkout's code and once with the baseline's
(`git archive REF`, extracted into the work folder and put first on PYTHONPATH, its queries and
sources with it), up to `--baseline-max` models. Printed per build: wall and CPU seconds, peak RSS
(of the process and its workers: `bench_hub.run`), quads per CPU second, each step of the build
(the messages it reports) with its seconds, the new/baseline ratios, and the ratio of each figure
from one N to the next (a ratio of 10 per decade is linear cost). A build that fails or passes
the memory limit (RLIMIT_AS, `--memory-gb`) is reported as such. Last, the paper's own build
(`--paper-rounds` rounds each, median), new and baseline.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hub import run as run_stage

ROOT = Path(__file__).resolve().parent.parent

# One build, its steps timed by the messages `build` reports; prints JSON on its last line.
BUILD_SCRIPT = r"""
import json, sys, time
from pathlib import Path
from kg.release.build import build
out, sources, workspace = sys.argv[1], sys.argv[2], sys.argv[3]
marks = []
t0 = time.perf_counter()
def step(msg):
    marks.append((time.perf_counter() - t0, msg))
result = build(Path(out), sources=Path(sources) if sources != "-" else None,
               workspace=Path(workspace) if workspace != "-" else None, step=step)
end = time.perf_counter() - t0
steps = [[msg, (marks[i + 1][0] if i + 1 < len(marks) else end) - t]
         for i, (t, msg) in enumerate(marks)]
if marks:
    steps.insert(0, ["(before the first step)", marks[0][0]])
print(json.dumps({"quads": result.triples, "steps": steps, "seconds": end}))
"""


def run(
    cmd: list[str], memory_gb: float, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, Any]:
    """Run `cmd` in `cwd` (`python -c` imports `kg` from there first) with an address-space
    limit, niced; wall and CPU seconds, peak RSS (MB), stdout (bench_hub.run)."""
    wall, cpu, rss, text = run_stage(cmd, memory_gb, env, cwd, nice=10)
    return {"wall": wall, "cpu": cpu, "rss": rss, "stdout": text}


def baseline_tree(ref: str, work: Path) -> Path:
    """The baseline commit's files (git archive), extracted once into the work folder."""
    sha = subprocess.check_output(["git", "rev-parse", ref], cwd=ROOT, text=True).strip()
    tree = work / f"baseline-{sha[:12]}"
    if not tree.is_dir():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def env_for(code: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code)
    return env


def one_build(
    label: str,
    code: Path,
    out: Path,
    sources: str,
    workspace: str,
    memory_gb: float,
    keep: bool = False,
) -> dict[str, Any]:
    """One build in its own process; its output folder is removed after unless `keep`."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", BUILD_SCRIPT, str(out), sources, workspace]
    try:
        row = run(cmd, memory_gb, env_for(code), code)
    except RuntimeError as exc:
        print(f"    {label:<9} FAILED {exc}", flush=True)
        return {"error": str(exc)[:300]}
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    data = json.loads(row.pop("stdout").strip().splitlines()[-1])
    row.update(data)
    row["rate"] = data["quads"] / row["cpu"] if row["cpu"] else 0.0
    print(
        f"    {label:<9} {row['wall']:8.1f} s wall {row['cpu']:8.1f} s CPU {row['rss']:8.0f} MB"
        f" {row['rate']:10,.0f} quads/CPU s ({data['quads']:,} quads)",
        flush=True,
    )
    for msg, secs in data["steps"]:
        rate = f"{data['quads'] / secs:12,.0f} quads/s" if secs > 0.01 else ""
        print(f"    {'':<9}   {secs:8.1f} s  {rate}  {msg[:60]}", flush=True)
    return row


def side_by_side(new: dict[str, Any], old: dict[str, Any] | None) -> None:
    if not old or "error" in old or "error" in new:
        return
    print(
        f"    new/baseline: wall x{new['wall'] / old['wall']:.2f},"
        f" CPU x{new['cpu'] / old['cpu']:.2f}, peak RSS x{new['rss'] / old['rss']:.2f}"
        " (baseline/new: "
        f"{old['cpu'] / new['cpu']:.1f}x faster, {old['rss'] / new['rss']:.1f}x less memory)",
        flush=True,
    )


def hub(n: int, args: argparse.Namespace, old_code: Path | None) -> dict[str, Any]:
    work: Path = args.work
    data = work / f"hub-{n}.jsonl"
    ws = work / f"hub-ws-{n}"
    print(f"  hub-shaped, N = {n:,}", flush=True)
    if not data.exists():
        r = run([sys.executable, "benchmarks/synth_hub.py", str(n), str(data)], args.memory_gb)
        print(f"    synth     {r['wall']:8.1f} s wall {r['rss']:8.0f} MB", flush=True)
    if not (ws / "imports").is_dir():
        shutil.rmtree(ws, ignore_errors=True)
        cmd = [sys.executable, "-m", "kg", "import", "hf", str(data), "--workspace", str(ws)]
        r = run(cmd, args.memory_gb, env_for(ROOT))
        print(
            f"    import    {r['wall']:8.1f} s wall {r['cpu']:8.1f} s CPU {r['rss']:8.0f} MB"
            f" {n / max(r['cpu'], 0.01):10,.0f} records/CPU s",
            flush=True,
        )
    result = {"new": one_build("new", ROOT, work / "out-new", "-", str(ws), args.memory_gb)}
    if old_code is not None and n <= args.baseline_max:
        result["old"] = one_build(
            "baseline", old_code, work / "out-old", "-", str(ws), args.memory_gb
        )
        side_by_side(result["new"], result["old"])
    return result


def paper(n: int, args: argparse.Namespace, old_code: Path | None) -> dict[str, Any]:
    work: Path = args.work
    src = work / f"paper-{n}"
    print(f"  paper-shaped, N = {n:,}", flush=True)
    if not src.is_dir():
        r = run([sys.executable, "benchmarks/synth_paper.py", str(n), str(src)], args.memory_gb)
        print(f"    synth     {r['wall']:8.1f} s wall {r['rss']:8.0f} MB", flush=True)
    out = work / f"out-new-{n}" if args.keep else work / "out-new"
    result = {"new": one_build("new", ROOT, out, str(src), "-", args.memory_gb, args.keep)}
    if args.keep and "error" not in result["new"]:
        print(f"    kept: {out}", flush=True)
    if old_code is not None and n <= args.baseline_max:
        result["old"] = one_build(
            "baseline", old_code, work / "out-old", str(src), "-", args.memory_gb
        )
        side_by_side(result["new"], result["old"])
    return result


def decades(kind: str, sizes: list[int], figures: dict[int, dict[str, Any]]) -> None:
    for small, big in itertools.pairwise(sizes):
        for side in ("new", "old"):
            a, b = figures[small].get(side, {}), figures[big].get(side, {})
            if "wall" in a and "wall" in b:
                print(
                    f"  {kind} {small:,} -> {big:,} {side:<4} wall x{b['wall'] / a['wall']:6.1f}"
                    f"  CPU x{b['cpu'] / a['cpu']:6.1f}  peak RSS x{b['rss'] / a['rss']:5.1f}"
                    f"  quads x{b['quads'] / a['quads']:6.1f}  (x{big / small:g} models)"
                )


def paper_itself(args: argparse.Namespace, old_code: Path | None) -> dict[str, Any]:
    print(f"  the paper's build, {args.paper_rounds} rounds each (median)", flush=True)
    result: dict[str, Any] = {}
    sides = [("new", ROOT)] + ([("baseline", old_code)] if old_code is not None else [])
    samples: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in sides}
    for _ in range(args.paper_rounds):  # interleaved, so that both see the same load
        for label, code in sides:
            out = args.work / f"out-paper-{label}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-c", BUILD_SCRIPT, str(out), "-", "-"]
            row = run(cmd, 4, env_for(code), code)
            shutil.rmtree(out, ignore_errors=True)
            samples[label].append(row)
    for label, rows in samples.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("wall", "cpu", "rss")}
        result[label] = med
        print(
            f"    {label:<9} {med['wall']:8.2f} s wall {med['cpu']:8.2f} s CPU {med['rss']:8.0f} MB"
            f"  (wall {min(r['wall'] for r in rows):.2f}-{max(r['wall'] for r in rows):.2f})",
            flush=True,
        )
    if "baseline" in result:
        new, old = result["new"], result["baseline"]
        print(
            f"    new/baseline: wall x{new['wall'] / old['wall']:.2f}, "
            f"CPU x{new['cpu'] / old['cpu']:.2f}, peak RSS x{new['rss'] / old['rss']:.2f}"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--paper", type=int, nargs="*", default=[100_000])
    parser.add_argument("--baseline", default=None, help="a commit to compare with (git ref)")
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--paper-rounds", type=int, default=3)
    parser.add_argument("--memory-gb", type=float, default=12.0)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the new paper-shaped releases (WORK/out-new-N), to validate or serve them",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    args.work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    args.work.mkdir(parents=True, exist_ok=True)
    old_code = baseline_tree(args.baseline, args.work) if args.baseline else None
    print(f"work folder {args.work}; memory limit {args.memory_gb} GB per build", flush=True)
    figures: dict[str, Any] = {"hub": {}, "paper": {}}
    for n in args.hub:
        figures["hub"][n] = hub(n, args, old_code)
    for n in args.paper:
        figures["paper"][n] = paper(n, args, old_code)
    if args.paper_rounds:
        figures["paper itself"] = paper_itself(args, old_code)
    print("\nper-decade ratios: 10 = linear in N")
    decades("hub", args.hub, figures["hub"])
    decades("paper", args.paper, figures["paper"])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
