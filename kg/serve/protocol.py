"""The SPARQL 1.1 Protocol's parts that need no HTTP: the read-only check, content negotiation
and the result serialisers (SPARQL JSON, XML, CSV, TSV; RDF formats for graph results).

The read-only check is lexical: comments, strings and IRIs are blanked out first, so a keyword
inside a literal (`"SERVICE"`) or an IRI does not count, and a keyword outside them does.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"

# Result formats of SELECT and ASK: media type -> key. The first is the default.
RESULT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
# Formats of CONSTRUCT and DESCRIBE results (and of resource descriptions): media type -> key.
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
}
RDF_FORMATS: dict[str, tuple[ox.RdfFormat, str]] = {
    "turtle": (ox.RdfFormat.TURTLE, "text/turtle"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "rdfxml": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
    "ntriples": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
}
RESULT_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
# The `format` request parameter some clients send instead of an Accept header.
FORMAT_ALIASES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
}


class Refused(Exception):
    """A request the endpoint will not run. `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- the read-only check ------------------------------------------------------------------------
#
# A friendly refusal, not a safety boundary: the query workers have no network (see
# `kg.serve.isolation`), so a SERVICE clause that got past this check could not reach any host.
# The scan is linear in the length of the query: each lexeme is matched once, from where the
# previous one ended, by possessive patterns that never back up. It runs in the worker, under the
# query's time limit, never in the process that serves the other clients.

_IRI_BODY = r"""(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+"""
_IRI = re.compile(f"<{_IRI_BODY}>")
# Code up to the next comment, string or IRI: a `<` that does not open an IRI is a comparison.
_CODE = re.compile(rf"""(?:[^#'"<\\]++|\\.|<(?!{_IRI_BODY}>))*+""", re.DOTALL)
_COMMENT = re.compile(r"#[^\r\n]*+")  # SPARQL ends a comment at CR or at LF
_LONG = {
    "'''": re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*+'''", re.DOTALL),
    '"""': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*+"""', re.DOTALL),
}
_SHORT = {
    "'": re.compile(r"'(?:[^'\\\n\r]|\\.)*+'"),
    '"': re.compile(r'"(?:[^"\\\n\r]|\\.)*+"'),
}
_UPDATE_KEYWORDS = (
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
)
_PROLOGUE = re.compile(r"\s*+(?:(?:PREFIX\s++[^\s:]*+:\s*+|BASE\s*+)\uFFFF\s*+)*+", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[A-Za-z]++")
# A keyword is a word not glued to a prefixed name or a variable, nor part of a longer name.
_SERVICE = re.compile(r"(?<![\w:?$\-])SERVICE(?![\w:\-])", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$\-])FROM(?![\w:\-])", re.IGNORECASE)


def blank_lexemes(query: str) -> str:
    """The query with comments removed and every string and IRI replaced by one U+FFFF mark.

    One pass, linear in the length of the query. Outside strings and IRIs a backslash escapes
    the next character (`ex:a\\#` is a name, not the start of a comment). An unterminated string
    ends the scan: the query is a syntax error, which the engine reports."""
    out: list[str] = []
    pos, end = 0, len(query)
    while pos < end:
        code = _CODE.match(query, pos)
        assert code is not None  # the pattern matches the empty string
        out.append(query[pos : code.end()])
        pos = code.end()
        if pos >= end:
            break
        char = query[pos]
        if char == "#":
            pos = _COMMENT.match(query, pos).end()  # type: ignore[union-attr]
            out.append(" ")
            continue
        if char == "<":  # `_CODE` stopped here: an IRI
            pos = _IRI.match(query, pos).end()  # type: ignore[union-attr]
            out.append("\uffff")
            continue
        if char == "\\":  # a lone backslash at the very end
            out.append(char)
            pos += 1
            continue
        triple = query[pos : pos + 3]
        string = _LONG[triple].match(query, pos) if triple in _LONG else None
        if string is None:
            string = _SHORT[char].match(query, pos)
        if string is None:  # unterminated: a syntax error, and the rest is not code
            break
        out.append("\uffff")
        pos = string.end()
    return "".join(out)


def check_read_only(query: str) -> None:
    """Refuse SPARQL Update (including LOAD) and federated queries (SERVICE), with a reason.

    Update: the first keyword after the prologue, with comments, strings and IRIs blanked out.
    (The workers only ever call `Store.query`, which cannot run an update in any case.)
    SERVICE: the keyword outside comments, strings and IRIs. This gives a clear answer; it is
    not what keeps queries off the network: the workers have none, whatever the query says."""
    code = blank_lexemes(query)
    body = code[_PROLOGUE.match(code).end() :]  # type: ignore[union-attr]
    first = _FIRST_WORD.match(body)
    if first and first.group(0).upper() in _UPDATE_KEYWORDS:
        raise Refused(
            403,
            f"this endpoint is read-only: SPARQL Update ({first.group(0).upper()}) is not accepted",
        )
    if _SERVICE.search(code):
        raise Refused(
            403, "federated queries are not accepted: this endpoint does not run SERVICE clauses"
        )


def names_dataset(query: str) -> bool:
    """Whether the query gives its own dataset (FROM or FROM NAMED)."""
    return bool(_FROM.search(blank_lexemes(query)))


def without_header(query: str) -> str:
    """The query without its leading comment lines (a library file's YAML header). Some clients
    misread the query form from comments: SPARQLWrapper 2.0 takes `COPY` in a header line that
    says "copyright" for a SPARQL Update and sends the query as `update=`."""
    lines = query.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    return "\n".join(lines) + "\n"


# --- content negotiation ------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRange:
    type: str
    q: float

    @property
    def specificity(self) -> int:
        if self.type == "*/*":
            return 0
        return 1 if self.type.endswith("/*") else 2

    def matches(self, media: str) -> bool:
        if self.type == "*/*" or self.type == media:
            return True
        return self.type.endswith("/*") and media.startswith(self.type[:-1])


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header. A missing header accepts anything; a q that is not
    a number in [0, 1] makes its range unacceptable (q=0)."""
    ranges: list[MediaRange] = []
    for part in (header if header is not None and header.strip() else "*/*").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
                if not math.isfinite(q) or not 0.0 <= q <= 1.0:
                    q = 0.0
        ranges.append(MediaRange(fields[0].lower(), q))
    return ranges


def negotiate(accept: str | None, offered: dict[str, str]) -> tuple[str, str] | None:
    """The (key, media type) of the offer the client prefers, or None when it accepts none of
    them (the caller answers 406).

    Each offered type takes the q of the most specific range that matches it (RFC 9110 12.5.1),
    and a key offered under several types (aliases) takes the most specific match among them, so
    that refusing a type by name (q=0) refuses its aliases too. Highest q wins; ties go to the
    offer listed first (the server's default)."""
    ranges = parse_accept(accept)
    best: tuple[float, int, str, str] | None = None  # (q, -order, key, media)
    per_key: dict[str, tuple[int, float, str]] = {}  # key -> (specificity, q, media)
    order: dict[str, int] = {}
    for media, key in offered.items():
        order.setdefault(key, len(order))
        matching = [r for r in ranges if r.matches(media)]
        if not matching:
            continue
        top = max(r.specificity for r in matching)
        q = max(r.q for r in matching if r.specificity == top)
        known = per_key.get(key)
        if known is None or (top, q) > known[:2]:
            per_key[key] = (top, q, media)
    for key, (_spec, q, media) in per_key.items():
        if q <= 0:
            continue
        candidate = (q, -order[key], key, media)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else (best[2], best[3])


# --- serialisers --------------------------------------------------------------------------------


JsonTerm: TypeAlias = dict[str, "str | JsonTerm"]
"""An RDF term in SPARQL JSON results (a quoted triple's value holds three terms)."""


def _json_term(t: object) -> JsonTerm:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: JsonTerm = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(t.subject),
                "predicate": _json_term(t.predicate),
                "object": _json_term(t.object),
            },
        }
    raise TypeError(f"not an RDF term: {t!r}")


def _x(text: str) -> str:
    return escape(text, {"\r": "&#13;"})


def _xml_term(t: object) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{_x(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{_x(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{_x(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{_x(t.value)}</literal>"
        return f"<literal>{_x(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(t.subject)}</subject>"
            f"<predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {t!r}")


def _tsv_term(t: object) -> str:
    if isinstance(t, ox.Triple):
        return f"<<( {_tsv_term(t.subject)} {_tsv_term(t.predicate)} {_tsv_term(t.object)} )>>"
    return str(t)


# A cell a spreadsheet would run as a formula starts with one of these (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or
    a CR gets a leading `'` (which spreadsheets show as text), unless it is a plain number such
    as `-1.5`. Used for every CSV the project writes from query results (`kg query --format
    csv`, `/sparql` as `text/csv`)."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _csv_value(t: object) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    if isinstance(t, ox.NamedNode | ox.Literal):
        return neutralise_formula(t.value)
    return neutralise_formula(str(t))


Row = Sequence[object | None]


@dataclass
class Serialized:
    """A serialised result: `rows` rows (or triples) kept; `cut` says why there were not more
    ("rows" or "bytes"), None when the whole result is there."""

    body: bytes
    rows: int
    cut: str | None = None


def _select_parts(variables: list[str], fmt: str) -> tuple[str, str, str, Callable[[Row], str]]:
    """(head, separator between rows, tail, one row) of a SELECT result in `fmt`."""
    if fmt == "json":
        memo: dict[object, str] = {}  # a term repeats across rows: convert it once
        keys = [json.dumps(v, ensure_ascii=False) + ":" for v in variables]

        def term(t: object) -> str:
            found = memo.get(t)
            if found is None:
                found = memo[t] = json.dumps(
                    _json_term(t), ensure_ascii=False, separators=(",", ":")
                )
            return found

        def json_row(row: Row) -> str:
            return (
                "{"
                + ",".join(k + term(t) for k, t in zip(keys, row, strict=True) if t is not None)
                + "}"
            )

        head = json.dumps({"vars": variables}, ensure_ascii=False, separators=(",", ":"))
        return '{"head":' + head + ',"results":{"bindings":[', ",", "]}}", json_row
    if fmt == "xml":
        names = [quoteattr(v) for v in variables]

        def xml_row(row: Row) -> str:
            cells = "".join(
                f"<binding name={n}>{_xml_term(t)}</binding>"
                for n, t in zip(names, row, strict=True)
                if t is not None
            )
            return f"<result>{cells}</result>"

        head = "".join(
            [
                '<?xml version="1.0"?>',
                f'<sparql xmlns="{SPARQL_RESULTS_NS}"><head>',
                *(f"<variable name={n}/>" for n in names),
                "</head><results>",
            ]
        )
        return head, "", "</results></sparql>", xml_row
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")

        def csv_line(cells: list[str]) -> str:
            buf.seek(0)
            buf.truncate()
            writer.writerow(cells)
            return buf.getvalue()

        def csv_row(row: Row) -> str:
            return csv_line([_csv_value(t) for t in row])

        return csv_line(variables), "", "", csv_row
    if fmt == "tsv":

        def tsv_row(row: Row) -> str:
            return "\t".join("" if t is None else _tsv_term(t) for t in row) + "\n"

        return "\t".join(f"?{v}" for v in variables) + "\n", "", "", tsv_row
    raise ValueError(f"unknown result format {fmt}")


def serialize_select(
    variables: list[str],
    rows: Iterable[Row],
    fmt: str,
    max_rows: int | None = None,
    max_bytes: int | None = None,
) -> Serialized:
    """SELECT results in one of the four SPARQL result formats (`json`, `xml`, `csv`, `tsv`),
    cut after `max_rows` rows or before the row that would take the body past `max_bytes`."""
    head, sep, tail, one = _select_parts(variables, fmt)
    parts = [head.encode()]
    size = len(parts[0]) + len(tail.encode())
    kept = 0
    cut = None
    for row in rows:
        if max_rows is not None and kept >= max_rows:
            cut = "rows"
            break
        text = ((sep if kept else "") + one(row)).encode()
        size += len(text)
        if max_bytes is not None and size > max_bytes:
            cut = "bytes"
            break
        parts.append(text)
        kept += 1
    parts.append(tail.encode())
    return Serialized(b"".join(parts), kept, cut)


def serialize_boolean(value: bool, fmt: str) -> bytes:
    """ASK results in one of the four SPARQL result formats."""
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        text = "true" if value else "false"
        return (
            f'<?xml version="1.0"?><sparql xmlns="{SPARQL_RESULTS_NS}"><head/>'
            f"<boolean>{text}</boolean></sparql>"
        ).encode()
    if fmt == "csv":
        return ("_askResult\r\n" + ("true" if value else "false") + "\r\n").encode()
    if fmt == "tsv":
        return ("?_askResult\n" + ("true" if value else "false") + "\n").encode()
    raise ValueError(f"unknown result format {fmt}")


def serialize_graph(
    triples: Iterable[ox.Triple], fmt: str, prefixes: dict[str, str] | None = None
) -> bytes:
    """Triples in one of the RDF formats (`turtle`, `jsonld`, `rdfxml`, `ntriples`)."""
    return ox.serialize(list(triples), format=RDF_FORMATS[fmt][0], prefixes=prefixes or {}) or b""


def serialize_graph_capped(
    triples: Iterable[ox.Triple],
    fmt: str,
    prefixes: dict[str, str] | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = None,
) -> Serialized:
    """Triples in one of the RDF formats, cut after `max_rows` triples or to the most that fit
    in `max_bytes` (kept in the order the query gave them)."""
    kept: list[ox.Triple] = []
    cut = None
    estimate = 0  # N-Triples bytes of the triples kept: a first guess at the body's size
    for t in triples:
        if max_rows is not None and len(kept) >= max_rows:
            cut = "rows"
            break
        estimate += len(str(t).encode()) + 3
        if max_bytes is not None and estimate > 2 * max_bytes:
            cut = "bytes"
            break
        kept.append(t)
    body = serialize_graph(kept, fmt, prefixes)
    if max_bytes is not None and len(body) > max_bytes:
        cut = "bytes"
        low, high = 0, len(kept)  # the most triples whose serialisation fits
        while low < high:
            mid = (low + high + 1) // 2
            if len(serialize_graph(kept[:mid], fmt, prefixes)) <= max_bytes:
                low = mid
            else:
                high = mid - 1
        kept = kept[:low]
        body = serialize_graph(kept, fmt, prefixes)
    return Serialized(body, len(kept), cut)
