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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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

_LEXEMES = re.compile(
    r"""(?P<comment>\#[^\n\r]*)
      | (?P<long>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
      | (?P<short>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
      | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)""",
    re.VERBOSE | re.DOTALL,
)
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
_PROLOGUE = re.compile(r"\s*(?:(?:PREFIX\s+[^\s:]*:\s*|BASE\s*)\uFFFF\s*)*", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
# A keyword is a word not glued to a prefixed name or a variable, nor part of a longer name.
_SERVICE = re.compile(r"(?<![\w:?$\-])SERVICE(?![\w:\-])", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$\-])FROM(?![\w:\-])", re.IGNORECASE)


def blank_lexemes(query: str) -> str:
    """The query with comments removed and every string and IRI replaced by one U+FFFF mark."""

    def repl(m: re.Match[str]) -> str:
        return " " if m.lastgroup == "comment" else "\uffff"

    return _LEXEMES.sub(repl, query)


def _has_service_pattern(tree: object) -> bool:
    """Whether an rdflib parse tree holds a SERVICE graph pattern anywhere."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if getattr(node, "name", None) == "ServiceGraphPattern":
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
            stack.extend(list(node))  # type: ignore[call-overload]
    return False


def check_read_only(query: str) -> None:
    """Refuse SPARQL Update (including LOAD) and federated queries (SERVICE), with a reason.

    Update: the first keyword after the prologue, with comments, strings and IRIs blanked out.
    (The workers only ever call `Store.query`, which cannot run an update in any case.)
    SERVICE: keywords cannot be escaped, so a query without the letters "service" in any case
    has no SERVICE clause. One that has them is refused when the lexical scan finds the keyword,
    and otherwise parsed (rdflib) and refused if the parse tree holds a SERVICE pattern or if
    the parse fails: it is never let through on a guess.
    """
    code = blank_lexemes(query)
    body = code[_PROLOGUE.match(code).end() :]  # type: ignore[union-attr]
    first = _FIRST_WORD.match(body)
    if first and first.group(0).upper() in _UPDATE_KEYWORDS:
        raise Refused(
            403,
            f"this endpoint is read-only: SPARQL Update ({first.group(0).upper()}) is not accepted",
        )
    if "service" not in query.lower():
        return
    refusal = Refused(
        403, "federated queries are not accepted: this endpoint does not run SERVICE clauses"
    )
    if _SERVICE.search(code):
        raise refusal
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(query)
    except Exception:
        raise Refused(
            403,
            "the query mentions 'service' and could not be checked to hold no SERVICE clause; "
            "federated queries are not accepted",
        ) from None
    if _has_service_pattern(tree):
        raise refusal


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


def _json_term(t: object) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
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


def _csv_value(t: object) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    if isinstance(t, ox.NamedNode | ox.Literal):
        return t.value
    return str(t)


Row = Sequence[object | None]


def serialize_select(variables: list[str], rows: Iterable[Row], fmt: str) -> bytes:
    """SELECT results in one of the four SPARQL result formats (`json`, `xml`, `csv`, `tsv`)."""
    if fmt == "json":
        memo: dict[object, dict] = {}  # a term repeats across rows: convert it once

        def term(t: object) -> dict:
            found = memo.get(t)
            if found is None:
                found = memo[t] = _json_term(t)
            return found

        bindings = [
            {v: term(t) for v, t in zip(variables, row, strict=True) if t is not None}
            for row in rows
        ]
        doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt == "xml":
        parts = [
            '<?xml version="1.0"?>',
            f'<sparql xmlns="{SPARQL_RESULTS_NS}"><head>',
            *(f"<variable name={quoteattr(v)}/>" for v in variables),
            "</head><results>",
        ]
        for row in rows:
            parts.append("<result>")
            parts += [
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row, strict=True)
                if t is not None
            ]
            parts.append("</result>")
        parts.append("</results></sparql>")
        return "".join(parts).encode()
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_value(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    if fmt == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if t is None else _tsv_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"unknown result format {fmt}")


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
