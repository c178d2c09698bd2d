"""`kg serve`: the release over HTTP, on Starlette and uvicorn. This module assembles the
application from its parts:

- `/sparql`: SPARQL 1.1 Protocol, read-only, queries run in killable worker processes without
  network access (`kg.serve.workers`) under a time limit, a row cap and a byte cap, shared
  fairly among clients; CORS on every read endpoint (`kg.serve.endpoint`).
- every IRI under the base: its description by content negotiation (HTML, Turtle, JSON-LD,
  RDF/XML, N-Triples) with `Vary: Accept`, or one variant by extension (`kg.serve.resources`).
- the home page with the overview of every model and its search, `/query` (a page that runs
  SPARQL against `/sparql`, with the library's questions as examples), `/compare`, the VoID
  description, the dumps, the badges (`kg.serve.front`).

The data and the pages made from it are `kg.serve.application.Application`; the plumbing every
route shares (headers, errors, the request body's limits, the client) is `kg.serve.handler`;
running the server (the socket, uvicorn, shutdown) is `kg.serve.server`. The HTTP layer
(connections, parsing, keep-alive, the accept backlog, the connection limit, graceful shutdown)
is uvicorn's. Absolute URLs (VoID, service description) come from the configured public URL,
never from the request's Host header.
"""

from __future__ import annotations

import re
import sys

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kg.outputs.overview import OVERVIEW_FILE, SEARCH_FILE
from kg.serve.application import Application
from kg.serve.endpoint import SparqlRoutes
from kg.serve.front import PageRoutes
from kg.serve.handler import ALLOW, CORS, ClientGone, params
from kg.serve.resources import ResourceRoutes

# A Host header: a registered name or IPv4 address, or an IPv6 literal in brackets; a port.
HOST = re.compile(r"(?:[A-Za-z0-9._~\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class KgApp(SparqlRoutes, PageRoutes, ResourceRoutes):
    """The ASGI application: routes, the SPARQL protocol, resources, and the common headers."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.config = app.config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off; nothing else is served
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ClientGone:
            return
        except Exception as exc:  # a bug: answer, log, keep serving
            print(f"kg serve: {request.method} {request.url.path}: {exc!r}", file=sys.stderr)
            response = self.fail(500, "the server failed on this request")
        for k, v in CORS.items():
            response.headers.setdefault(k, v)
        response.headers["X-Content-Type-Options"] = "nosniff"
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        host = request.headers.get("host")
        if host is not None and not HOST.fullmatch(host):
            return self.fail(400, "malformed Host header", {"Connection": "close"})
        method = request.method
        if method in ("GET", "HEAD"):
            return await self.get(request)
        if method == "OPTIONS":
            return self.send(204, b"", "text/plain", {"Allow": ALLOW})
        if method == "POST":
            return await self.post(request)
        closing = {} if await self.drain(request) else {"Connection": "close"}
        return self.fail(
            405, f"{method} is not allowed: the server is read-only", {"Allow": ALLOW, **closing}
        )

    async def get(self, request: Request) -> Response:
        path = request.url.path
        if path == "/sparql":
            return await self.sparql(request, params(request.url.query), None)
        if path in ("/", "/index.html"):
            return await self.home(request)
        if path in ("/" + OVERVIEW_FILE, "/" + SEARCH_FILE):
            return self.overview_data(path[1:])
        if path == "/query":
            return self.query_page(request)
        if path == "/compare":
            return await self.compare(request)
        if path in ("/void.ttl", "/.well-known/void"):
            return await self.void(request)
        if path.startswith("/badge/"):
            return await self.badge(path)
        if path.startswith("/dumps/"):
            return await self.dump(path)
        return await self.resource(request, path)
