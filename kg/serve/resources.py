"""Every IRI under the base: its page or RDF by content negotiation (or by the variant its path
names), with `Link` headers, an ETag per build, and `Vary: Accept`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kg.outputs.linked import link_header
from kg.outputs.pages import VARIANTS
from kg.serve.handler import Handler
from kg.serve.protocol import negotiate

# Resource descriptions: media type -> extension of the variant (see kg.outputs.pages.VARIANTS).
RESOURCE_TYPES: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    **{media: ext for ext, (_f, media, _n) in VARIANTS.items()},
}


class ResourceRoutes(Handler):
    async def resource(self, request: Request, path: str) -> Response:
        found = self.app.resource(path)
        if found is None:
            return self.fail(404, f"nothing is described at {path}")
        iri, ext = found
        headers: dict[str, str] = {"Link": link_header(iri, self.app.base)}
        if ext is None:  # the IRI itself: the variant by content negotiation
            headers["Vary"] = "Accept"
            chosen = negotiate(request.headers.get("accept"), RESOURCE_TYPES)
            if chosen is None:
                offered = ", ".join(dict.fromkeys(RESOURCE_TYPES))
                return self.fail(406, f"{iri} is described as {offered}", headers)
            ext = chosen[0]
            headers["Content-Location"] = f"{iri.rsplit('/', 1)[-1]}.{ext}"
        headers["ETag"] = f'"{self.app.build_id}-{ext}"'
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(b"", 304, headers)
        if ext == "html":
            return self.send(200, await self.app.page(iri), "text/html; charset=utf-8", headers)
        media = VARIANTS[ext][1]
        return self.send(200, await self.app.resource_rdf(iri, ext), media, headers)
