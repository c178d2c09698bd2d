"""The pages of `kg serve` other than resources: the home page (the overview, answering its
search form without JavaScript) with its data, the query page, the compare view, the VoID
description, the dumps and the badges."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from kg.outputs.overview import OVERVIEW_FILE
from kg.serve.application import DUMP_TYPES
from kg.serve.handler import Handler

HTML = "text/html; charset=utf-8"


class PageRoutes(Handler):
    async def home(self, request: Request) -> Response:
        page = await asyncio.to_thread(self.app.home, request.url.query)
        return self.send(200, page, HTML)

    def overview_data(self, name: str) -> Response:
        body = self.app.overview_data if name == OVERVIEW_FILE else self.app.search_data
        return self.send(200, body, "application/json")

    def query_page(self, request: Request) -> Response:
        return self.send(200, self.app.query_page, HTML)

    async def compare(self, request: Request) -> Response:
        status, page = await asyncio.to_thread(self.app.compare, request.url.query)
        return self.send(status, page, HTML)

    async def void(self, request: Request) -> Response:
        return self.send(200, await asyncio.to_thread(self.app.void), "text/turtle")

    async def dump(self, path: str) -> Response:
        name = path[len("/dumps/") :]
        file = await asyncio.to_thread(self.app.dump, name)
        if file is None:
            return self.fail(404, f"no dump {name!r} (dumps: {', '.join(DUMP_TYPES)})")
        return FileResponse(file, media_type=DUMP_TYPES[name])

    async def badge(self, path: str) -> Response:
        """A model's openness badge, or its badge under one definition (kg.outputs.badges), at
        the static release's URL."""
        image = await asyncio.to_thread(self.app.badges.svg_at, path)
        if image is None:
            return self.fail(404, f"no badge at {path}")
        return self.send(200, image.encode(), "image/svg+xml")
