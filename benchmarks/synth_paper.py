"""Paper-shaped synthetic sources: the project's own source formats with N models.

A copy of `sources/` in which Tables 2 and 3 hold N models: the paper's 40 (so that every other
source that names them still resolves) followed by N - 40 synthetic ones. Each synthetic model
takes a developer, size, release month and readings from a paper model drawn at random, and
each of its twelve Table 3 cells from that column's cells in the paper, drawn with the paper's
frequencies (so a level keeps the licenses it is written with, and the share of open weights,
N/A cells and unscored licenses stays Table 3's). Seeded: the same N and seed give the same files.

    python benchmarks/synth_paper.py N OUT_DIR [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
from pathlib import Path

from kg.paths import resource_dir


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def synth_sources(n: int, out: Path, seed: int = 1) -> Path:
    """Write paper-shaped sources with `n` models (at least the paper's 40) into `out`."""
    src = resource_dir("sources")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("imports"))
    rng = random.Random(seed)
    t2_header, table2 = _read(src / "paper" / "table2.csv")
    t3_header, table3 = _read(src / "paper" / "table3.csv")
    if n < len(table2):
        raise ValueError(f"N must be at least the paper's {len(table2)} models")
    components = [c for c in t3_header if c != "model"]
    columns = {c: [r[c] for r in table3] for c in components}
    width = len(str(n))
    for i in range(len(table2), n):
        like = rng.choice(table2)
        name = f"Synth-{i:0{width}d}"
        table2.append({**like, "id": f"synth-{i:0{width}d}", "model": name, "table3_label": ""})
        table3.append({"model": name, **{c: rng.choice(columns[c]) for c in components}})
    _write(out / "paper" / "table2.csv", t2_header, table2)
    _write(out / "paper" / "table3.csv", t3_header, table3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(synth_sources(args.n, args.out, args.seed))


if __name__ == "__main__":
    main()
