"""Severities of checks and the `kg check --fail-on` threshold (a module of its own, so that the
command line can offer the choices without importing the checks)."""

from __future__ import annotations

from enum import StrEnum


class CheckSeverity(StrEnum):
    """How much a finding matters, ROBOT's levels: `error` (the data is wrong), `warn` (a finding
    about a source, kept as stated), `info` (worth knowing, e.g. a missing basis)."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warn": 2, "info": 1}[self.value]


class FailOn(StrEnum):
    """The least severity that makes `kg check` exit 1 (`none`: never)."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"
    NONE = "none"
