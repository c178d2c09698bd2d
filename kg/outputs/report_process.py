"""What a build writes from its finished store besides the dumps: reports, figures and the
overview's folded answers (`write_outputs`), and `python -m kg.outputs.report_process STORE
RELEASE`, which writes them for a large build.

A large build (decision 29) writes its reports and figures from the release's on-disk store in a
process of its own, which opens the store read-only, while the build itself writes the dumps
from it: the two take about as long as each other and each keeps one core busy. The process
writes into the release's staging folder; the build waits for it before the release is swapped
in, and fails with the process's own error if it failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg.errors import KgError
from kg.outputs.overview import OVERVIEW_FOLDED, Folded
from kg.outputs.reports import write_reports
from kg.store import OxigraphStore


def write_outputs(store: OxigraphStore, release: Path) -> list[Path]:
    """Write reports/errata.md, figures/ and the overview's folded answers (`OVERVIEW_FOLDED`,
    which `kg serve` reads at start instead of asking the overview's questions) into a release
    folder; the files written."""
    folded = release / OVERVIEW_FOLDED
    folded.parent.mkdir(exist_ok=True)
    Folded.from_store(store).write(folded)
    return [folded, *write_reports(store, release)]


def main(argv: list[str]) -> int:
    """Write the reports and figures of the store at argv[0] into the release folder argv[1]."""
    if len(argv) != 2:
        print("usage: python -m kg.outputs.report_process STORE RELEASE", file=sys.stderr)
        return 2
    try:
        store = OxigraphStore.open_read_only(Path(argv[0]))
        try:
            write_outputs(store, Path(argv[1]))
        finally:
            store.close()
    except KgError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
