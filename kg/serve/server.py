"""Running `kg serve`: the listening socket, uvicorn with a deadline for each request's head,
and a graceful shutdown on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from kg.errors import KgError
from kg.serve.app import KgApp
from kg.serve.application import Application
from kg.serve.config import ServeConfig, public_root


class Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head: a connection that
    sends no complete request line and headers within `head_timeout` seconds of opening (or of
    its last answer) is closed, so that silent or trickling connections do not pile up."""

    head_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired)

    def _disarm(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _head_expired(self) -> None:
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._waiting_for_head():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._waiting_for_head():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def bind(config: ServeConfig) -> socket.socket:
    """The listening socket, bound before anything else starts, so that a taken port fails at
    once (and workers can check they cannot reach it)."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # IPPROTO_TCP named, so that asyncio turns Nagle's algorithm off on every connection (it
    # checks the protocol number; with Nagle on, an answer written as head and body waited for
    # the client's delayed ACK: about 40 ms a request on a keep-alive connection)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        raise KgError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None
    return sock


def serve(release: Path, config: ServeConfig) -> None:
    """Serve `release` until interrupted (Ctrl-C or SIGTERM: a graceful shutdown)."""
    root = public_root(config.public_url) if config.public_url else None
    sock = bind(config)
    host, port = sock.getsockname()[:2]
    config.port = port
    listen = f"[{host}]" if ":" in host else host
    if root is None:
        root = f"http://{listen}:{port}"
        if host in ("0.0.0.0", "::"):
            print(
                f"kg serve: absolute URLs name {root}; give --public-url (or $KG_PUBLIC_URL) "
                "with the URL clients use",
                file=sys.stderr,
            )
    try:
        app = Application(release, config, root)
    except BaseException:
        sock.close()
        raise
    protocol = type("Protocol", (Protocol,), {"head_timeout": config.idle_timeout})
    server = uvicorn.Server(
        uvicorn.Config(
            KgApp(app),
            lifespan="off",
            http=protocol,
            ws="none",
            interface="asgi3",
            backlog=config.backlog,
            limit_concurrency=config.max_connections,
            timeout_keep_alive=max(1, int(config.idle_timeout)),
            timeout_graceful_shutdown=max(1, math.ceil(config.time_limit)) + 1,
            h11_max_incomplete_event_size=64 * 1024,  # request line and headers
            proxy_headers=False,
            server_header=False,
            access_log=not config.quiet,
            log_level="warning" if config.quiet else "info",
        )
    )
    # uvicorn handles SIGINT and SIGTERM while it serves (stop accepting, finish what is in
    # flight), then raises the signal again: this handler turns SIGTERM into the same unwinding
    # as Ctrl-C, so that the workers stop and the private copy of the data is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sock.listen(config.backlog)  # connections queue from now on, before uvicorn accepts
        print(
            f"Serving release {app.build_id} at http://{listen}:{port}/ (SPARQL: /sparql; "
            f"public URL {root}/; query workers: {app.pool.isolation or 'no network isolation'})",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        sock.close()
        app.close()
