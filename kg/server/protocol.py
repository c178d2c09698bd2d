"""The SPARQL 1.1 Protocol's parts that need no HTTP: the read-only check, content negotiation
and the result serialisers (SPARQL JSON, XML, CSV, TSV; RDF formats for graph results).

The read-only check is lexical: comments, strings and IRIs are blanked out first, so a keyword
inside a literal (`"SERVICE"`) or an IRI does not count, and a keyword outside them does.
"""

from __future__ import annotations

import csv
import io
import json
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
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)""",
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
# A keyword is a word not glued to a prefixed name, a variable or a longer word.
_SERVICE = re.compile(r"(?<![\w:?$.\-])SERVICE(?![\w:\-])", re.IGNORECASE)


def blank_lexemes(query: str) -> str:
    """The query with comments removed and every string and IRI replaced by one U+FFFF mark."""

    def repl(m: re.Match[str]) -> str:
        return " " if m.lastgroup == "comment" else "\uffff"

    return _LEXEMES.sub(repl, query)


def check_read_only(query: str) -> None:
    """Refuse SPARQL Update (including LOAD) and federated queries (SERVICE), with a reason."""
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
            403,
            "federated queries are not accepted: this endpoint does not run SERVICE clauses",
        )


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
    order: int

    @property
    def specificity(self) -> int:
        if self.type == "*/*":
            return 0
        return 1 if self.type.endswith("/*") else 2


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header, best first (q, then specificity, then order)."""
    ranges: list[MediaRange] = []
    for order, part in enumerate((header or "*/*").split(",")):
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
        ranges.append(MediaRange(fields[0].lower(), q, order))
    return sorted(ranges, key=lambda r: (-r.q, -r.specificity, r.order))


def negotiate(accept: str | None, offered: dict[str, str]) -> str | None:
    """The key of the offered media type the client prefers; the first offered for `*/*`.
    None when the client accepts none of them (the caller answers 406)."""
    ranges = parse_accept(accept)
    if not ranges:
        ranges = [MediaRange("*/*", 1.0, 0)]
    refused = {r.type for r in ranges if r.q == 0}
    for r in ranges:
        if r.q == 0:
            continue
        for media, key in offered.items():
            if media in refused:
                continue
            if r.type in (media, "*/*") or (
                r.type.endswith("/*") and media.startswith(r.type[:-1])
            ):
                return key
    return None


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


def _xml_term(t: object) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(t.subject)}</subject>"
            f"<predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {t!r}")


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
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
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
    rdf_format, _media = RDF_FORMATS[fmt]
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD):
        data = ox.serialize(list(triples), format=rdf_format, prefixes=prefixes or {})
    else:
        data = ox.serialize(list(triples), format=rdf_format)
    return data or b""
