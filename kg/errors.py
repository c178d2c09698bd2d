"""Errors the user can act on. Each names where the problem is."""

from __future__ import annotations

from pathlib import Path


class KgError(Exception):
    """A problem the user can fix (bad input, missing build, bad query). CLI exit code 2."""


class SourceError(KgError):
    """A curated source record that cannot be used: names the file, the line and the field."""

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file)
        self.line = line
        self.record = record
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.record:
            where += f", record '{self.record}'"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class QueryError(KgError):
    """A query file that cannot be read or run, or a bad parameter."""
