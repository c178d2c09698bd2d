"""The server's protocol helpers without HTTP: content negotiation by RFC 9110's rules."""

from __future__ import annotations

import pytest

from kg.serve.protocol import GRAPH_TYPES, RESULT_TYPES, negotiate
from kg.serve.resources import RESOURCE_TYPES


@pytest.mark.parametrize(
    "accept, offered, expected",
    [
        (None, RESULT_TYPES, ("json", "application/sparql-results+json")),
        ("", RESULT_TYPES, ("json", "application/sparql-results+json")),
        ("text/csv", RESULT_TYPES, ("csv", "text/csv")),
        # a type refused by name is refused under its aliases too
        ("application/sparql-results+json;q=0, */*", RESULT_TYPES, ("xml", None)),
        # the most specific range decides a type's quality
        ("application/*;q=0, text/csv;q=0.1, */*", RESULT_TYPES, ("tsv", None)),
        ("*/*, application/sparql-results+json;q=0.1", RESULT_TYPES, ("xml", None)),
        ("text/*", RESULT_TYPES, ("csv", "text/csv")),
        ("image/png", RESULT_TYPES, None),
        ("application/sparql-results+json;q=nan", RESULT_TYPES, None),
        ("application/sparql-results+json;q=2", RESULT_TYPES, None),
        ("text/plain", GRAPH_TYPES, ("ntriples", "text/plain")),
        ("text/turtle;q=0, text/*", GRAPH_TYPES, ("ntriples", "text/plain")),
        ("application/ld+json;q=0.9, text/turtle;q=0.8", GRAPH_TYPES, ("jsonld", None)),
        ("text/html;q=0, */*", RESOURCE_TYPES, ("ttl", "text/turtle")),
        ("text/*;q=0, */*", RESOURCE_TYPES, ("nt", "application/n-triples")),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            RESOURCE_TYPES,
            ("html", "text/html"),
        ),
    ],
)
def test_negotiate(accept, offered, expected):
    got = negotiate(accept, offered)
    if expected is None:
        assert got is None
    else:
        key, media = expected
        assert got is not None and got[0] == key
        if media:
            assert got[1] == media
