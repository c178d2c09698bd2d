"""`kg serve` answers like the static release: the same badge at the same path, the static
release's document paths, `Link` headers, and the build's day as the VoID's modified date."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Built
from kg.release.release import Release
from servers import KgServer

BASE = "https://w3id.org/genai-openness/"


@pytest.fixture(scope="module")
def server(built: Built):
    with KgServer(built.out) as srv:
        yield srv


def fetch(url: str, accept: str | None = None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.status, r.headers, r.read()


def test_badge_is_served_at_the_static_path(server: KgServer, published: Path):
    status, headers, body = fetch(server.url + "badge/model/llama-2.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert body == (published / "badge" / "model" / "llama-2.svg").read_bytes()
    _s, _h, page = fetch(server.url + "model/llama-2", "text/html")
    assert b'src="../badge/model/llama-2.svg"' in page
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(server.url + "badge/model/no-such-model.svg")
    assert err.value.code == 404
    # a model's badge under one definition, as the static release has it
    path = "badge/model/llama-2/osaid-1-0.svg"
    status, headers, body = fetch(server.url + path)
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert body == (published / path).read_bytes()
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(server.url + "badge/model/llama-2/no-such-definition.svg")
    assert err.value.code == 404


def test_link_header_and_document_paths(server: KgServer):
    status, headers, _body = fetch(server.url + "model/llama-2", "text/turtle")
    link = headers["Link"]
    assert f'<{BASE}model/llama-2/index.ttl>; rel="alternate"; type="text/turtle"' in link
    assert '<https://creativecommons.org/licenses/by/4.0/>; rel="license"' in link
    assert 'rel="describedby"' in link
    # the documents the static release names resolve on the server too
    status, headers, doc = fetch(server.url + "model/llama-2/index.ttl")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    assert ox.parse(doc, format=ox.RdfFormat.TURTLE)


def test_void_modified_is_the_build_day(server: KgServer, built: Built):
    _s, _h, body = fetch(server.url + "void.ttl")
    triples = list(ox.parse(body, format=ox.RdfFormat.TURTLE))
    modified = [t.object.value for t in triples if t.predicate.value.endswith("/modified")]
    stamp = (Release.current(built.out).path / "manifest.json").stat().st_mtime
    assert modified == [dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()]
