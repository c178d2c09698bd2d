"""The compliance suite's cases and golden files.

A case is one library question (`queries/*.rq`, `queries/checks/`, `queries/pages/`) run with
its default parameters, the same question with the example values its header gives
(`example:` in a parameter's spec; case id `NAME@example`), or one derivation rule
(`queries/derive/`, its CONSTRUCT output). Every case's answer on the embedded store is kept in
`tests/golden/<case>.csv`: a header row (the variables; `subject,predicate,object` for a
CONSTRUCT; `boolean` for an ASK), then one row per solution with each term written as in
N-Triples (but plain strings as their text, blank nodes as `_:b`, unbound as an empty
cell). Rows are sorted, unless the query
has a top-level ORDER BY, when they keep the store's order.

After a change to the sources, the ontology or the queries, regenerate them from a fresh build
(and look at the diff):

    .venv/bin/python tests/compliance.py --update
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from kg.store.endpoint import query_form  # noqa: E402
from kg.store.queries import QueryFile, library, queries_dir  # noqa: E402

XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")
GOLDEN = Path(__file__).resolve().parent / "golden"
KNOWN = GOLDEN / "known-differences.yaml"
# the library's questions, its checks, the pages' questions, the derivation rules
FOLDERS = ("", "checks", "pages", "derive")
UPDATE_HINT = "regenerate with: .venv/bin/python tests/compliance.py --update (and read the diff)"
_ORDER_BY = re.compile(r"\bORDER\s+BY\b(?P<keys>[^}]*)\Z", re.IGNORECASE | re.DOTALL)
_KEY = re.compile(r"^(?:(?:ASC|DESC)\s*\(\s*[?$](\w+)\s*\)|[?$](\w+))$", re.IGNORECASE)
_TAIL = re.compile(r"\b(LIMIT|OFFSET)\s+\d+", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    id: str
    query: QueryFile = field(compare=False)
    params: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def golden(self) -> Path:
        return GOLDEN / f"{self.id}.csv"


@dataclass
class Answer:
    header: list[str]
    rows: list[list[str]]


def cases() -> list[Case]:
    """Every case, in a stable order."""
    out: list[Case] = []
    for folder in FOLDERS:
        if folder and not (queries_dir() / folder).is_dir():
            continue
        for q in library(folder):
            if q.path.suffix != ".rq":
                continue
            if not any(p.required and p.default is None for p in q.parameters):
                out.append(Case(q.name, q))
            examples = {p.name: p.example for p in q.parameters if p.example is not None}
            if examples:
                out.append(Case(f"{q.name}@example", q, examples))
    return out


def uncovered() -> list[str]:
    """Library questions no case runs (a required parameter without an example)."""
    covered = {c.query.name for c in cases()}
    return [
        q.name
        for folder in FOLDERS
        if not folder or (queries_dir() / folder).is_dir()
        for q in library(folder)
        if q.path.suffix == ".rq" and q.name not in covered
    ]


def cell(term: Any) -> str:
    """A term as a golden cell: a plain string as its text, other terms as in N-Triples."""
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal) and not term.language and term.datatype == XSD_STRING:
        return term.value
    return str(term)


def answer(store: Any, case: Case, prefixes: dict[str, str]) -> Answer:
    """The case's answer on a store of the store interface."""
    terms = case.query.bindings(case.params, prefixes)
    form = query_form(case.query.text)
    if form == "SELECT":
        result = store.select(case.query, terms)
        rows = [[cell(r.get(v)) for v in result.variables] for r in result.rows]
        return Answer(result.variables, rows if ordered(case.query) else sorted(rows))
    if form in ("CONSTRUCT", "DESCRIBE"):
        triples = store.construct(case.query, terms)
        return Answer(
            ["subject", "predicate", "object"],
            sorted([cell(t.subject), cell(t.predicate), cell(t.object)] for t in triples),
        )
    return Answer(["boolean"], [["true" if store.ask(case.query, terms) else "false"]])


def ordered(query: QueryFile) -> bool:
    return order_keys(query) is not None


def order_keys(query: QueryFile) -> list[str] | None:
    """None without a top-level ORDER BY; else the ordering variables, or [] when the order is
    by expressions (then the rows are compared in order)."""
    text = "\n".join(
        line for line in query.text.splitlines() if not line.lstrip().startswith("#")
    ).rstrip()
    text = _TAIL.sub("", text).rstrip()
    m = _ORDER_BY.search(text)
    if not m:
        return None
    keys: list[str] = []
    for part in re.findall(r"(?:ASC|DESC)\s*\([^)]*\)|[?$]\w+|\S+", m["keys"], re.IGNORECASE):
        k = _KEY.match(part.strip())
        if not k:
            return []
        keys.append(k.group(1) or k.group(2))
    return keys


def read_golden(case: Case) -> Answer:
    with case.golden.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return Answer(rows[0], rows[1:])


def write_golden(case: Case, ans: Answer) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ans.header)
    writer.writerows(ans.rows)
    case.golden.parent.mkdir(parents=True, exist_ok=True)
    case.golden.write_text(buf.getvalue(), encoding="utf-8")


def difference(case: Case, got: Answer, want: Answer) -> str | None:
    """None if `got` gives the golden rows (in the golden order where the query orders them,
    up to ties of its ORDER BY keys); else what differs."""
    if got.header != want.header:
        return f"columns {got.header}, golden file {want.header}"
    keys = order_keys(case.query)
    if sorted(got.rows) != sorted(want.rows):
        missing = _multiset(want.rows, got.rows)
        extra = _multiset(got.rows, want.rows)
        return (
            f"{len(got.rows)} rows, golden file {len(want.rows)}; "
            f"missing {_show(missing)}; unexpected {_show(extra)}"
        )
    if keys is None:
        return None
    cols = [got.header.index(k) for k in keys if k in got.header] if keys else None
    if keys and cols is not None and len(cols) == len(keys):
        g = [[r[c] for c in cols] for r in got.rows]
        w = [[r[c] for c in cols] for r in want.rows]
    else:
        g, w = got.rows, want.rows
    if g != w:
        first = next(i for i, (a, b) in enumerate(zip(g, w, strict=True)) if a != b)
        return f"row order differs from row {first + 1}: {g[first]} where golden has {w[first]}"
    return None


def _multiset(a: Sequence[list[str]], b: Sequence[list[str]]) -> list[list[str]]:
    rest = [tuple(r) for r in b]
    out = []
    for r in a:
        t = tuple(r)
        if t in rest:
            rest.remove(t)
        else:
            out.append(r)
    return out


def _show(rows: list[list[str]], most: int = 3) -> str:
    shown = "; ".join(",".join(r) for r in rows[:most])
    return f"{len(rows)}: {shown}" + (" …" if len(rows) > most else "") if rows else "none"


@dataclass(frozen=True)
class Known:
    """A known difference: why the back-end's answer differs; `run` False for one not worth
    waiting for (a case that times out)."""

    reason: str
    run: bool = True


def known_differences() -> dict[tuple[str, str], Known]:
    """(back-end, case id) -> the known difference, from known-differences.yaml."""
    entries = yaml.safe_load(KNOWN.read_text(encoding="utf-8")) or []
    out = {}
    for e in entries:
        for backend in e["backends"]:
            reason = " ".join(str(e["reason"]).split())
            out[(backend, e["case"])] = Known(reason, bool(e.get("run", True)))
    return out


def update() -> None:
    """Build the project's sources into a temporary folder and write every golden file."""
    import tempfile

    from kg.release.build import build
    from kg.release.release import Release

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "output"
        build(out)
        release = Release.current(out)
        prefixes = release.base.prefixes()
        store = release.open_store()
        keep = set()
        for case in cases():
            write_golden(case, answer(store, case, prefixes))
            keep.add(case.golden)
        store.close()
    for stale in GOLDEN.rglob("*.csv"):
        if stale not in keep:
            stale.unlink()
            print(f"removed {stale.relative_to(ROOT)}")
    print(f"wrote {len(keep)} golden files under {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/compliance.py --update")
    update()
