"""Reading curated CSV tables: rows keep their file line; problems name file, line and field."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import SourceError

IDENTIFIER = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # lower-case kebab-case
# Columns for the curators only (review remarks, where and how a fact was checked, tooling
# notes): every table may have them, and they are dropped on reading, so that no mapping can
# publish them.
CURATOR_ONLY = ("curator_note",)


def error_at(where: str, message: str, *, field: str, record: str) -> SourceError:
    """An error about a record already read, located by its 'file:line'."""
    file, _, line = where.rpartition(":")
    return SourceError(file, message, line=int(line), field=field, record=record)


@dataclass(frozen=True)
class Row:
    """One data row of a curated table, with where it was read."""

    file: str
    line: int
    index: int  # 1-based position among the data rows (the row of the paper's table)
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    @property
    def where(self) -> str:
        """'file:line', the form statements keep in gao:curatedRecord."""
        return f"{self.file}:{self.line}"

    def error(
        self, message: str, field: str | None = None, record: str | None = None
    ) -> SourceError:
        return SourceError(self.file, message, line=self.line, field=field, record=record)


def read_table(
    path: Path,
    columns: Sequence[str],
    *,
    optional: Sequence[str] = (),
    extra_ok: bool = False,
    display: str | None = None,
) -> list[Row]:
    """Read a UTF-8 CSV whose header must hold `columns` (and may hold `optional` ones).

    A missing or unknown column, a row with the wrong number of cells, an undecodable file or a
    CSV syntax error stops with a SourceError naming the file and line. The `CURATOR_ONLY`
    columns are accepted in every table and left out of the rows.
    """
    name = display or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(name, f"file not found ({path})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(
            name, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise SourceError(name, f"cannot be read: {exc.strerror}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise SourceError(name, "the file is empty; expected a header row", line=1)
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
        header = [h.strip() for h in header]
        _check_header(name, header, columns, optional, extra_ok)
        rows: list[Row] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise SourceError(
                    name,
                    f"the row has {len(cells)} cells but the header has {len(header)}",
                    line=line,
                    record=cells[0] if cells else None,
                )
            values = dict(zip(header, cells, strict=True))
            for column in CURATOR_ONLY:
                values.pop(column, None)
            rows.append(Row(name, line, len(rows) + 1, values))
    except csv.Error as exc:
        raise SourceError(name, f"malformed CSV: {exc}", line=reader.line_num) from None
    return rows


def _check_header(
    name: str,
    header: list[str],
    columns: Sequence[str],
    optional: Sequence[str],
    extra_ok: bool,
) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise SourceError(name, "the column appears twice in the header", line=1, field=column)
        seen.add(column)
    missing = [c for c in columns if c not in seen]
    if missing:
        raise SourceError(
            name, f"missing column(s): {', '.join(missing)}", line=1, field=missing[0]
        )
    if not extra_ok:
        allowed = set(columns) | set(optional) | set(CURATOR_ONLY)
        extra = [c for c in header if c not in allowed]
        if extra:
            raise SourceError(
                name,
                f"unknown column(s): {', '.join(extra)}; expected {', '.join(columns)}",
                line=1,
                field=extra[0],
            )
