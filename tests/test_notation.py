"""The paper's cell, number and date notations parse exactly, and bad ones say why."""

import pytest

from kg.sources import notation as n


@pytest.mark.parametrize(
    ("text", "level", "status", "candidates", "licenses"),
    [
        ("C1", "C1", None, (), ()),
        ("D5 (Mod. MIT)", "D5", None, (), ("Mod. MIT",)),
        ("C5 (CC BY-SA-4.0)", "C5", None, (), ("CC BY-SA-4.0",)),
        ("D3 (OPT Data)", "D3", None, (), ("OPT Data",)),
        ("C5 (MIT; Apache 2.0)", "C5", None, (), ("MIT", "Apache 2.0")),
        ("N/A", None, n.NOT_APPLICABLE, (), ()),
        ("?", None, n.UNKNOWN, (), ()),
        ("? (D3 or D4)", None, n.UNKNOWN, ("D3", "D4"), ()),
        ("? (likely D5)", None, n.UNKNOWN, ("D5",), ()),
    ],
)
def test_cells(text, level, status, candidates, licenses):
    cell = n.parse_cell(text)
    assert (cell.level, cell.status, cell.candidates, cell.licenses) == (
        level,
        status,
        candidates,
        licenses,
    )
    assert cell.notation == text


@pytest.mark.parametrize("text", ["C6", "D0", "E3", "c5", "C5 Apache", "? (maybe)", "", "C5 ()"])
def test_bad_cells(text):
    with pytest.raises(ValueError, match=r"level notation|empty license"):
        n.parse_cell(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5B", 1_500_000_000),
        ("1.2T", 1_200_000_000_000),
        ("7.5B", 7_500_000_000),
        ("11B", 11_000_000_000),
        ("N/A", None),
    ],
)
def test_sizes(text, value):
    assert n.parse_size(text) == value


@pytest.mark.parametrize("text", ["1.5", "B", "1,5B", "-3B", "1.5G", "0.0000000001K"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="size"):
        n.parse_size(text)


@pytest.mark.parametrize(
    ("text", "value"), [("8,015", 8015), ("17,984,300", 17984300), ("70", 70), ("N/A", None)]
)
def test_counts(text, value):
    assert n.parse_count(text) == value


@pytest.mark.parametrize("text", ["8.015", "1,00", "12,3456", "-5", "", "n/a", "1 000"])
def test_bad_counts(text):
    with pytest.raises(ValueError, match="malformed number"):
        n.parse_count(text)


def test_months():
    assert n.parse_month("02/2019") == "2019-02"
    for bad in ("13/2019", "2/2019", "2019-02", "00/2020"):
        with pytest.raises(ValueError, match="malformed date"):
            n.parse_month(bad)


def test_scores():
    assert n.parse_score("5 (Restriction free)") == (5, "Restriction free")
    with pytest.raises(ValueError, match="malformed score"):
        n.parse_score("five")
