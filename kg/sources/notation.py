"""Parsers for the notations of the paper's tables; each raises ValueError saying why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

NOT_APPLICABLE = "N/A"
UNKNOWN = "?"

_LEVEL = r"[CD][1-5]"
_CELL_LEVEL = re.compile(rf"^(?P<level>{_LEVEL})(?: \((?P<licenses>[^()]+)\))?$")
_CELL_UNKNOWN = re.compile(r"^\?(?: \((?P<hint>[^()]+)\))?$")
_HINT = re.compile(rf"^(?:likely )?(?P<first>{_LEVEL})(?P<rest>(?: or {_LEVEL})*)$")
_SIZE = re.compile(r"^(?P<num>\d+(?:\.\d+)?)(?P<unit>[KMBT])$")
_COUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)$")
_MONTH = re.compile(r"^(?P<month>\d{2})/(?P<year>\d{4})$")
_SCORE = re.compile(r"^(?P<score>\d+) \((?P<category>[^()]+)\)$")
_UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


@dataclass(frozen=True)
class Cell:
    """One Table 3 cell, as written and as parsed."""

    notation: str
    level: str | None = None  # "C5", "D3", ... when the cell states a level
    status: str | None = None  # NOT_APPLICABLE or UNKNOWN when it does not
    candidates: tuple[str, ...] = ()  # levels offered for an uncertain cell
    licenses: tuple[str, ...] = field(default=())  # license notations as written


def parse_cell(text: str) -> Cell:
    """Parse a Table 3 cell: `C5 (Apache 2.0)`, `D1`, `N/A`, `?`, `? (D3 or D4)`, `? (likely D5)`.

    Several licenses in one cell are separated by `; ` inside the parentheses.
    """
    raw = text
    text = text.strip()
    if text == NOT_APPLICABLE:
        return Cell(raw, status=NOT_APPLICABLE)
    m = _CELL_UNKNOWN.match(text)
    if m:
        hint = m.group("hint")
        if hint is None:
            return Cell(raw, status=UNKNOWN)
        h = _HINT.match(hint)
        if not h:
            raise ValueError(
                f"unknown level notation '{raw}': after '?' expected candidate levels such as "
                "'(D3 or D4)' or '(likely D5)'"
            )
        candidates = (h.group("first"), *re.findall(_LEVEL, h.group("rest")))
        return Cell(raw, status=UNKNOWN, candidates=candidates)
    m = _CELL_LEVEL.match(text)
    if not m:
        raise ValueError(
            f"unknown level notation '{raw}': expected C1-C5 or D1-D5 (optionally followed by "
            "'(license)'), 'N/A', '?' or '? (D3 or D4)'"
        )
    licenses = m.group("licenses")
    names = tuple(n.strip() for n in licenses.split(";")) if licenses else ()
    if any(not n for n in names):
        raise ValueError(f"empty license name in '{raw}'")
    return Cell(raw, level=m.group("level"), licenses=names)


def parse_level(text: str) -> str | None:
    """A bare level (`C5`) or `N/A` (returns None)."""
    text = text.strip()
    if text == NOT_APPLICABLE:
        return None
    if not re.fullmatch(_LEVEL, text):
        raise ValueError(f"unknown level notation '{text}': expected C1-C5, D1-D5 or N/A")
    return text


def parse_size(text: str) -> int | None:
    """`1.5B` -> 1500000000; `1.2T` -> 1200000000000; `N/A` -> None."""
    text = text.strip()
    if text == NOT_APPLICABLE:
        return None
    m = _SIZE.match(text)
    if not m:
        raise ValueError(
            f"malformed size '{text}': expected a number with a unit K, M, B or T "
            "(for example 1.5B), or N/A"
        )
    try:
        value = Decimal(m.group("num")) * _UNITS[m.group("unit")]
    except InvalidOperation:
        raise ValueError(f"malformed size '{text}'") from None
    if value != value.to_integral_value():
        raise ValueError(f"size '{text}' is not a whole number of parameters")
    return int(value)


def parse_count(text: str) -> int | None:
    """`17,984,300` -> 17984300; `N/A` -> None."""
    text = text.strip()
    if text == NOT_APPLICABLE:
        return None
    if not _COUNT.match(text):
        raise ValueError(
            f"malformed number '{text}': expected digits, optionally grouped by commas "
            "(for example 8,015), or N/A"
        )
    return int(text.replace(",", ""))


def parse_month(text: str) -> str:
    """`02/2019` -> `2019-02` (an xsd:gYearMonth lexical form)."""
    text = text.strip()
    m = _MONTH.match(text)
    if not m:
        raise ValueError(f"malformed date '{text}': expected MM/YYYY, for example 02/2019")
    month = int(m.group("month"))
    if not 1 <= month <= 12:
        raise ValueError(f"malformed date '{text}': month {month} is not between 01 and 12")
    return f"{m.group('year')}-{m.group('month')}"


def parse_yes_no(text: str) -> bool:
    text = text.strip()
    if text == "Y":
        return True
    if text == "N":
        return False
    raise ValueError(f"expected Y or N, found '{text}'")


def parse_score(text: str) -> tuple[int, str]:
    """`5 (Restriction free)` -> (5, "Restriction free")."""
    m = _SCORE.match(text.strip())
    if not m:
        raise ValueError(
            f"malformed score '{text}': expected a number and its category, "
            "for example '5 (Restriction free)'"
        )
    return int(m.group("score")), m.group("category")
