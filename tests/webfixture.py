"""A real HTTP server on a free loopback port whose answers a test scripts path by path."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What one path answers: `status`, `headers`, `body`; the first `fail` requests get
    `fail_status` (with `retry_after`, if set) instead; `cut` sends only that many bytes of the
    body (with the full Content-Length) and closes the connection; `delay` waits first."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fail: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    cut: int | None = None
    delay: float = 0.0


@dataclass
class Web:
    url: str
    routes: dict[str, Answer]
    requests: list[tuple[str, str, dict[str, str]]]  # method, path, headers

    def count(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)


@contextmanager
def web_server(routes: dict[str, Answer] | None = None) -> Iterator[Web]:
    web = Web("", routes if routes is not None else {}, [])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path
            with lock:
                web.requests.append((self.command, path, dict(self.headers)))
                answer = web.routes.get(path)
                failing = answer is not None and answer.fail > 0
                if failing:
                    answer.fail -= 1
            if answer is None:
                self._send(404, {}, b"no such file")
                return
            time.sleep(answer.delay)
            if failing:
                headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
                self._send(answer.fail_status, headers, b"try later")
                return
            body = answer.body if answer.cut is None else answer.body[: answer.cut]
            self._send(answer.status, answer.headers, body, len(answer.body))
            if answer.cut is not None:
                self.close_connection = True

        def _send(self, status: int, headers: dict[str, str], body: bytes, length=None) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
                self.wfile.flush()

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    web.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield web
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
