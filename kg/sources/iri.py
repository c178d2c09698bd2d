"""IRIs read from sources, checked where they are read: a bad one is an error that names its file,
record and field (instead of a crash deep in the build), and only web links get through."""

from __future__ import annotations

import urllib.parse

import pyoxigraph as ox

WEB = ("http", "https")


def iri_problem(value: str, schemes: tuple[str, ...] = WEB) -> str | None:
    """Why `value` cannot be used as a link IRI (None when it can): it must be an absolute IRI
    (RFC 3987, as pyoxigraph reads it) with one of `schemes` and, for http(s), a host."""
    if not value:
        return "empty IRI"
    scheme, colon, _ = value.partition(":")
    if not colon or not scheme:
        return f"'{value}' is not an absolute IRI (no scheme)"
    if scheme.lower() not in schemes:
        return f"'{value}': the scheme '{scheme}' is not allowed here (only {', '.join(schemes)})"
    try:
        ox.NamedNode(value)
    except ValueError as exc:
        return f"'{value}' is not a valid IRI ({exc})"
    if scheme.lower() in WEB and not urllib.parse.urlsplit(value).hostname:
        return f"'{value}' is not a valid IRI (no host)"
    return None
