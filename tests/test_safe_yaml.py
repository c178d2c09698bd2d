"""YAML from outside the project is read with limits: hostile documents fail fast, named."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kg.errors import SourceError
from kg.sources.safe_yaml import DEFAULT_LIMITS, Limits, load_file, loads

BOMB = Path(__file__).parent / "fixtures" / "yaml" / "billion-laughs.md"


def refused(text: str, limits: Limits = DEFAULT_LIMITS) -> SourceError:
    with pytest.raises(SourceError) as info:
        loads(text, "x.yaml", limits=limits)
    return info.value


def test_billion_laughs_fails_fast_with_line_and_field():
    text = BOMB.read_text().split("---")[1]
    started = time.perf_counter()
    err = refused(text)
    assert time.perf_counter() - started < 5  # order of magnitude: it took 25 s and all memory
    assert err.file == "x.yaml" and err.line == 8 and err.field == "f"
    assert "billion laughs" in str(err)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a:\n  b: !!python/object/apply:os.system ['echo hi']\n", "a.b"),
        ("a: !!python/name:os.system\n", "a"),
        ("model: !custom {x: 1}\n", "model"),
        ("- !!binary aGVsbG8=\n", "[0]"),
    ],
)
def test_tags_that_construct_objects_are_refused(text: str, field: str):
    err = refused(text)
    assert err.field == field and "is not allowed" in str(err)


def test_depth_aliases_recursion_and_size():
    assert "nested deeper than 5" in str(refused("a: " + "[" * 8 + "]" * 8, Limits(max_depth=5)))
    many = "a: &a x\nb: [" + ", ".join(["*a"] * 20) + "]\n"
    assert "more than 10 aliases" in str(refused(many, Limits(max_aliases=10)))
    assert "recursive alias" in str(refused("a: &a [1, *a]\n"))
    assert "larger than 10 bytes" in str(refused("a: 12345678901\n", Limits(max_bytes=10)))


def test_plain_data_and_dates_as_written(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("name: X\nreleasedate: 2023-08-01\nsize: 7\nopen: true\nlinks: [a, b]\n")
    assert load_file(path) == {
        "name": "X",
        "releasedate": "2023-08-01",
        "size": 7,
        "open": True,
        "links": ["a", "b"],
    }
    assert loads("", "e.yaml") is None


def test_malformed_yaml_names_line():
    err = refused("a: 1\nb: [unclosed\nc: 2\n")
    assert err.line is not None and "malformed YAML" in str(err)
