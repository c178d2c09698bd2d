"""What every route of `kg serve` shares: answers with the common headers (a Content-Security-
Policy for documents that run scripts), errors as plain text, the request body read under the
size and time limits, and who the client is (for the fair share of query workers)."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import re
import urllib.parse
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import Response

from kg.serve.application import Application
from kg.serve.config import ServeConfig

DRAIN_LIMIT = 64 * 1024 * 1024  # bytes of an unwanted body read and dropped before answering
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Expose-Headers": (
        "Content-Location, Vary, X-KG-Results-Truncated, X-KG-Results-Truncated-By"
    ),
    "Access-Control-Max-Age": "86400",
}
ALLOW = "GET, HEAD, POST, OPTIONS"

_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<code>.*?)</script>", re.DOTALL | re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def content_security_policy(page: bytes) -> str:
    """The CSP of one of our HTML pages: nothing from elsewhere, no plugins, no framing; inline
    styles; scripts only those inline in the page itself, by hash."""
    hashes = []
    for m in _SCRIPT.finditer(page.decode("utf-8", "replace")):
        attrs = m.group("attrs").lower()
        if "src=" in attrs or "application/json" in attrs:
            continue
        digest = hashlib.sha256(m.group("code").encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    scripts = " ".join(hashes) if hashes else "'none'"
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


class BodyRefused(Exception):
    def __init__(self, status: int, message: str, close: bool) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


class ClientGone(Exception):
    """The client closed the connection before its request was read."""


class Handler:
    """The plumbing the route classes (kg.serve.endpoint, front, resources) share."""

    app: Application
    config: ServeConfig

    @staticmethod
    def send(
        status: int, body: bytes, media_type: str, headers: dict[str, str] | None = None
    ) -> Response:
        response = Response(body, status, headers)
        response.headers["Content-Type"] = media_type
        if media_type.startswith(("text/html", "image/svg+xml")):  # documents that run scripts
            response.headers["Content-Security-Policy"] = content_security_policy(body)
        return response

    def fail(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        reason = HTTPStatus(status).phrase
        body = f"{status} {reason}: {message}\n".encode()
        return self.send(status, body, "text/plain; charset=utf-8", headers)

    async def read_body(self, request: Request) -> bytes:
        """The request's body, read with a time limit per piece; BodyRefused past the size
        limit (after reading and dropping up to DRAIN_LIMIT bytes, so that the client is not
        cut off while it still sends and sees the answer)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(request.receive(), self.config.idle_timeout)
            except TimeoutError:
                raise BodyRefused(408, "the body did not arrive in time", close=True) from None
            if message["type"] == "http.disconnect":
                raise ClientGone
            piece = message.get("body", b"")
            size += len(piece)
            if size <= self.config.max_body:
                chunks.append(piece)
            elif size > DRAIN_LIMIT:
                break
            if not message.get("more_body", False):
                break
        if size > self.config.max_body:
            raise BodyRefused(
                413,
                f"the body is larger than {self.config.max_body} bytes",
                close=size > DRAIN_LIMIT,
            )
        return b"".join(chunks)

    async def drain(self, request: Request) -> bool:
        """Read and drop a body the server will not use; True when it was read to its end."""
        if not self._has_body(request):
            return True
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > DRAIN_LIMIT:
            return False
        try:
            await self.read_body(request)
        except BodyRefused as exc:
            return exc.status == 413 and not exc.close
        return True

    @staticmethod
    def _has_body(request: Request) -> bool:
        headers = request.headers
        return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"

    def client(self, request: Request) -> str | None:
        """Who asks, for the fair share of workers: the API key's name, or the address.
        None when an API key is given that the server does not know."""
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
        if key is not None and self.config.api_keys:
            name = self.config.api_keys.get(key)
            return None if name is None else f"key:{name}"
        return f"addr:{request.client.host if request.client else '?'}"


def params(query: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(query, keep_blank_values=True)
