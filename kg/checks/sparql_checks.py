"""Checks the ROBOT way: one SELECT per `.rq` file under queries/checks/, zero rows = pass.

Each check's header gives its title, description, severity (`error`, `warn` or `info`) and
columns; the rows it returns are its findings. `kg check` runs them all and exits by severity
(`--fail-on`); the consistency report (`reports/errata.md`) and `kg query errata` are made from
the checks of the `errata` group, whose query (`queries/errata.rq`) `kg docs` generates as the
union of theirs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.checks.severity import CheckSeverity, FailOn
from kg.errors import QueryError
from kg.fsutil import write_atomic
from kg.paths import resource_dir
from kg.store import GraphStore
from kg.store.queries import QueryFile, library, parse_query_file

ERRATA_COLUMNS = (
    "model",
    "component",
    "license",
    "stated_level",
    "derived_level",
    "rule",
    "explanation",
)
_ORDER_KEYS = ("row", "position")  # projected by the errata checks so the union orders as before


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    description: str
    severity: CheckSeverity
    group: str | None
    query: QueryFile


@dataclass(frozen=True)
class CheckResult:
    check: Check
    columns: list[str]
    rows: list[dict[str, str]]  # each value as text, "" when unbound

    @property
    def passed(self) -> bool:
        return not self.rows

    @property
    def severity(self) -> CheckSeverity:
        return self.check.severity

    def fails(self, fail_on: FailOn) -> bool:
        """Whether this result makes `kg check --fail-on FAIL_ON` exit 1."""
        if self.passed or fail_on is FailOn.NONE:
            return False
        return self.severity.rank >= CheckSeverity(fail_on.value).rank


def checks_dir() -> Path:
    return resource_dir("queries") / "checks"


def load_checks(folder: Path | None = None) -> list[Check]:
    """The checks in name order; a check without a valid severity or columns is an error."""
    out = []
    queries = (
        library("checks")
        if folder is None
        else [parse_query_file(p, p.stem) for p in sorted(folder.glob("*.rq"))]
    )
    for qf in queries:
        name = qf.path.stem
        severity = str(qf.extra.get("severity", ""))
        if severity not in {s.value for s in CheckSeverity}:
            raise QueryError(
                f"{qf.path}: a check's header needs 'severity: error|warn|info' "
                f"(got '{severity or 'nothing'}')"
            )
        if not qf.columns:
            raise QueryError(f"{qf.path}: a check's header lists its columns")
        if not re.search(r"^\s*SELECT\b", qf.text, re.M | re.I):
            raise QueryError(f"{qf.path}: a check must be a SELECT query")
        group = qf.extra.get("group")
        out.append(
            Check(name, qf.title, qf.description, CheckSeverity(severity), group and str(group), qf)
        )
    if not out:
        raise QueryError(f"no checks (*.rq) in {folder or checks_dir()}")
    return out


def run_check(store: GraphStore, check: Check) -> CheckResult:
    result = store.select(check.query)
    missing = [c for c in check.query.columns if c not in result.variables]
    if missing:
        raise QueryError(
            f"{check.query.path}: the header lists column(s) the query does not return: "
            + ", ".join(missing)
        )
    rows = [
        {k: ("" if v is None else v.value) for k, v in row.items() if k in check.query.columns}
        for row in result.rows
    ]
    return CheckResult(check, list(check.query.columns), rows)


def run_checks(store: GraphStore, checks: list[Check] | None = None) -> list[CheckResult]:
    return [run_check(store, c) for c in (checks if checks is not None else load_checks())]


def exit_code(results: list[CheckResult], fail_on: FailOn) -> int:
    return 1 if any(r.fails(fail_on) for r in results) else 0


def summary_line(result: CheckResult) -> str:
    verdict = "pass" if result.passed else f"{len(result.rows)} finding(s)"
    return f"{result.severity.upper():5} {result.check.name}: {verdict} ({result.check.title})"


def checks_json(results: list[CheckResult], fail_on: FailOn) -> dict[str, Any]:
    return {
        "fail_on": fail_on.value,
        "exit": exit_code(results, fail_on),
        "checks": [
            {
                "name": r.check.name,
                "title": r.check.title,
                "description": r.check.description,
                "severity": r.severity.value,
                "passed": r.passed,
                "fails": r.fails(fail_on),
                "columns": r.columns,
                "rows": r.rows,
            }
            for r in results
        ],
    }


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def checks_markdown(results: list[CheckResult], fail_on: FailOn) -> str:
    failing = [r for r in results if r.fails(fail_on)]
    lines = [
        "# Checks",
        "",
        "Every check of `queries/checks/` run on this release by `kg check`; a check passes when "
        "it finds no rows.",
        f"With `--fail-on {fail_on.value}`: "
        + (f"**{len(failing)} failing check(s)**." if failing else "**nothing fails**."),
        "",
        "| check | severity | findings | title |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [
        f"| `{r.check.name}` | {r.severity.value} | {len(r.rows)} | {_cell(r.check.title)} |"
        for r in results
    ]
    for r in results:
        if r.passed:
            continue
        lines += ["", f"## {r.check.title} (`{r.check.name}`, {r.severity.value})", ""]
        lines += [r.check.description, ""]
        lines.append("| " + " | ".join(r.columns) + " |")
        lines.append("| " + " | ".join("---" for _ in r.columns) + " |")
        lines += ["| " + " | ".join(_cell(row[c]) for c in r.columns) + " |" for row in r.rows]
    return "\n".join(lines) + "\n"


def write_check_reports(results: list[CheckResult], folder: Path, fail_on: FailOn) -> list[Path]:
    """reports/checks.md and reports/checks.json, each written atomically."""
    md, js = folder / "checks.md", folder / "checks.json"
    write_atomic(md, checks_markdown(results, fail_on).encode("utf-8"))
    text = json.dumps(checks_json(results, fail_on), indent=2, ensure_ascii=False) + "\n"
    write_atomic(js, text.encode("utf-8"))
    return [md, js]


# --- the errata group ------------------------------------------------------------------------


def errata_checks(checks: list[Check] | None = None) -> list[Check]:
    found = [c for c in (checks or load_checks()) if c.group == "errata"]
    for c in found:
        want = (*ERRATA_COLUMNS, *_ORDER_KEYS)
        if tuple(c.query.columns) != want:
            raise QueryError(
                f"{c.query.path}: a check of the errata group returns the columns "
                f"{', '.join(want)} (in that order)"
            )
    return found


def errata_query_text(checks: list[Check] | None = None) -> str:
    """queries/errata.rq: the union of the errata checks, in the order the report was always in
    (by kind of finding, then source row and column). Generated by `kg docs`."""
    group = errata_checks(checks)
    prologue: list[str] = []
    branches: list[str] = []
    for c in group:
        body = _body(c.query.text)
        for line in body:
            if line.upper().startswith("PREFIX") and line not in prologue:
                prologue.append(line)
        query = [line for line in body if not line.upper().startswith("PREFIX")]
        rel = f"queries/checks/{c.query.path.name}"
        branches.append(
            f"  {{  # {rel} ({c.severity.value})\n"
            + "\n".join(("    " + line).rstrip() for line in query)
            + "\n  }"
        )
    header = [
        "# title: Consistency findings (errata)",
        "# description: >",
        "#   Every place where the paper's stated levels disagree with its own rules, one row per",
        "#   finding: the union of the checks in queries/checks/ whose header says",
        "#   `group: errata`, each row's rule naming its check. Findings are reported, never",
        "#   fixed. Generated by `kg docs` from those checks; do not edit by hand.",
        "# parameters:",
        '#   rule: {type: string, description: "only findings of this check (rule)"}',
        "# columns:",
        *(f"#   {k}: {group[0].query.columns[k]}" for k in ERRATA_COLUMNS),
    ]
    select = "SELECT " + " ".join(f"?{k}" for k in ERRATA_COLUMNS) + " WHERE {"
    return (
        "\n".join([*header, *sorted(prologue), select])
        + "\n"
        + "\n  UNION\n".join(branches)
        + "\n}\nORDER BY ?rule ?row ?position ?license\n"
    )


def _body(text: str) -> list[str]:
    """The query text after the header comment, without blank lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return [line for line in lines[start:] if line.strip()]


def errata_rows(results: list[CheckResult]) -> list[dict[str, str]]:
    """The rows of `kg query errata`, from the results of the errata checks."""
    return [
        {k: row[k] for k in ERRATA_COLUMNS}
        for r in results
        if r.check.group == "errata"
        for row in r.rows
    ]
