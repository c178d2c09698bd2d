"""Text written for the curators (review remarks, where a fact was checked, tooling notes) never
reaches a published literal: it lives in `curator_note` columns, which are dropped on reading."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Built
from kg.errors import SourceError
from kg.paths import resource_dir
from kg.release.release import Release
from kg.sources.csvio import CURATOR_ONLY, read_table

# Remarks about the curators' tooling and checking, not about the subject.
TOOLING = re.compile(
    r"seen (?:verbatim )?in (?:many|several|some) stored"
    r"|via index search|not reported by (?:the )?tool|\bgiven in (?:the )?brief\b"
    r"|\bVerified in \S+/|@[0-9a-f]{7,40}\b",
    re.IGNORECASE,
)


def published_literals(built: Built) -> list[str]:
    dumps = Release.current(built.out).dumps / "dataset.nq"
    return [
        q.object.value
        for q in ox.parse(path=str(dumps), format=ox.RdfFormat.N_QUADS)
        if isinstance(q.object, ox.Literal)
    ]


def test_no_published_literal_is_a_tooling_remark(built: Built):
    leaks = sorted({text for text in published_literals(built) if TOOLING.search(text)})
    assert leaks == []


def test_curator_notes_are_not_published(built: Built):
    notes = []
    for path in sorted(resource_dir("sources").rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                notes += [row[c] for c in CURATOR_ONLY if (row.get(c) or "").strip()]
    assert notes, "the curation files have curator notes to check"
    literals = "\n".join(published_literals(built))
    assert [n for n in notes if n in literals] == []


def test_a_curator_note_column_is_accepted_and_dropped(tmp_path: Path):
    table = tmp_path / "t.csv"
    table.write_text("id,basis,curator_note\na,public reason,checked in the tool's cache\n")
    (row,) = read_table(table, ["id", "basis"])
    assert row.values == {"id": "a", "basis": "public reason"}
    table.write_text("id,basis,reviewer\na,b,c\n")
    with pytest.raises(SourceError, match="unknown column"):
        read_table(table, ["id", "basis"])
