"""Bad curated sources stop `kg build` (exit 2) with a clear error; the last release stays.

The cases live in tests/cases/bad-sources.yaml (one edit of one file each).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import Built, run_kg

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "bad-sources.yaml").read_text())


def _edit_csv(path: Path, case: dict) -> None:
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    if "set" in case:
        s = case["set"]
        rows[s["line"] - 1][header.index(s["column"])] = s["value"]
    elif "drop_column" in case:
        i = header.index(case["drop_column"])
        rows = [r[:i] + r[i + 1 :] for r in rows]
    elif "add_column" in case:
        a = case["add_column"]
        rows = [[*rows[0], a["column"]]] + [[*r, a["value"]] for r in rows[1:]]
    elif "duplicate_line" in case:
        i = case["duplicate_line"] - 1
        rows.insert(i + 1, list(rows[i]))
    elif "delete_line" in case:
        del rows[case["delete_line"] - 1]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def apply(sources: Path, case: dict) -> None:
    path = sources / case["file"]
    if case.get("delete"):
        path.unlink()
    elif "raw" in case:
        with path.open("a", encoding="utf-8") as f:
            f.write(case["raw"])
    elif "raw_bytes" in case:
        with path.open("ab") as f:
            f.write(bytes.fromhex(case["raw_bytes"]))
    elif "truncate" in case:
        path.write_bytes(path.read_bytes()[: case["truncate"]])
    else:
        _edit_csv(path, case)


def _snapshot(out: Path) -> dict[str, bytes]:
    current = (out / "current").resolve()
    files = {
        p.relative_to(current).as_posix(): p.read_bytes() for p in (current / "dumps").iterdir()
    }
    files["<target>"] = str(current).encode()
    return files


@pytest.fixture
def previous_release(built: Built, tmp_path: Path) -> Path:
    """A copy of a good build, as a user would have it before a bad edit."""
    out = tmp_path / "output"
    shutil.copytree(built.out, out, symlinks=True)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_source(case, sources_dir: Path, previous_release: Path, tmp_path: Path):
    sources = tmp_path / "sources"
    shutil.copytree(sources_dir, sources)
    apply(sources, case)
    before = _snapshot(previous_release)

    proc = run_kg("build", "--sources", str(sources), "--out", str(previous_release))

    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())  # rich may wrap long lines
    expect = case["expect"]
    assert case["file"] in message
    assert expect["message"] in message
    if "line" in expect:
        assert re.search(rf"line {expect['line']}[,:]", message), message
    if "record" in expect:
        assert f"record '{expect['record']}'" in message
    if "field" in expect:
        assert f"field '{expect['field']}'" in message
    assert "Traceback" not in proc.stderr
    # nothing half-written: the previous release is untouched and no staging folder is left
    assert _snapshot(previous_release) == before
    leftovers = [
        p.name for p in (previous_release / "releases").iterdir() if p.name.startswith(".staging")
    ]
    assert leftovers == []
