"""`/sparql`: the SPARQL 1.1 Protocol (GET and POST), read-only, answered by the query workers;
without a query, the service description."""

from __future__ import annotations

import urllib.parse
from http import HTTPStatus

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from kg.serve.application import FORMATS_NS, SD
from kg.serve.handler import DRAIN_LIMIT, BodyRefused, Handler, params
from kg.serve.protocol import FORMAT_ALIASES, GRAPH_TYPES, negotiate, serialize_graph
from kg.serve.workers import PoolBusy, QueryRequest, QueryTimeout, WorkerCrashed


class SparqlRoutes(Handler):
    async def post(self, request: Request) -> Response:
        headers = request.headers
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return self.fail(411, "a POST needs a Content-Length", {"Connection": "close"})
        if request.url.path != "/sparql":
            closing = {} if await self.drain(request) else {"Connection": "close"}
            return self.fail(
                405, "only /sparql accepts POST", {"Allow": "GET, HEAD, OPTIONS", **closing}
            )
        length = headers.get("content-length")
        if length is not None and int(length) > DRAIN_LIMIT:  # h11 checked it is a number
            return self.fail(
                413,
                f"the body is larger than {self.config.max_body} bytes",
                {"Connection": "close"},
            )
        try:
            body = await self.read_body(request)
        except BodyRefused as exc:
            return self.fail(exc.status, exc.message, {"Connection": "close"} if exc.close else {})
        media = (headers.get("content-type") or "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.fail(400, "the body is not UTF-8")
        query = params(request.url.query)
        if media == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(text, keep_blank_values=True)
            for k, v in query.items():
                form.setdefault(k, []).extend(v)
            return await self.sparql(request, form, None)
        if media == "application/sparql-query":
            return await self.sparql(request, query, text)
        if media == "application/sparql-update":
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        return self.fail(
            415,
            f"Content-Type {media or '(none)'} is not accepted: send application/sparql-query "
            "or application/x-www-form-urlencoded",
        )

    async def sparql(
        self, request: Request, params: dict[str, list[str]], text: str | None
    ) -> Response:
        if "update" in params:
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        queries = params.get("query", [])
        if text is None:
            if not queries:
                return self.service_description(request)
            if len(queries) > 1:
                return self.fail(400, "give exactly one 'query' parameter")
            text = queries[0]
        elif queries:
            return self.fail(400, "the query is in the body: do not also give a 'query' parameter")
        accept = request.headers.get("accept")
        if params.get("format"):
            accept = FORMAT_ALIASES.get(params["format"][0].lower(), params["format"][0])
        query = QueryRequest(
            text,
            accept,
            params.get("default-graph-uri", []),
            params.get("named-graph-uri", []),
        )
        for uri in query.default_graphs + query.named_graphs:
            try:
                ox.NamedNode(uri)
            except ValueError:
                return self.fail(
                    400, f"{uri!r} (default-graph-uri or named-graph-uri) is not an IRI"
                )
        client = self.client(request)
        if client is None:
            return self.fail(401, "unknown API key")
        try:
            response = await self.app.pool.run(client, query)
        except (QueryTimeout, PoolBusy) as exc:
            return self.fail(503, str(exc))
        except WorkerCrashed as exc:
            return self.fail(500, str(exc))
        headers = {"Vary": "Accept"}
        if response.cut:
            headers["X-KG-Results-Truncated"] = str(response.rows)
            headers["X-KG-Results-Truncated-By"] = response.cut
        if response.status >= 400:
            reason = HTTPStatus(response.status).phrase
            body = f"{response.status} {reason}: ".encode() + response.body
            return self.send(response.status, body, response.media_type, headers)
        return self.send(response.status, response.body, response.media_type, headers)

    def service_description(self, request: Request) -> Response:
        chosen = negotiate(request.headers.get("accept"), {**GRAPH_TYPES, "text/html": "html"})
        if chosen is None:
            return self.fail(406, "the service description is offered as RDF (Turtle, …)")
        fmt, media = chosen
        if fmt == "html":
            return self.send(303, b"", "text/plain", {"Location": "query", "Vary": "Accept"})
        triples = self.app.service_description
        body = serialize_graph(triples, fmt, {"sd": SD, "formats": FORMATS_NS})
        return self.send(200, body, media, {"Vary": "Accept"})
