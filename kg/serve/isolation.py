"""Query workers without a network: a process cuts itself off before it opens the store.

pyoxigraph runs a query's `SERVICE` clause as an HTTP request to whatever address the query
names, and has no switch to turn that off. So each query worker moves itself into a network
namespace of its own (Linux `unshare(CLONE_NEWNET)`), where the only interface is a loopback
that is down: no address, no route, no name resolution, so no connection to any host, the
server's own machine included, whatever the query text says. As root, `CLONE_NEWNET` alone
works; otherwise a user namespace is created with it (`CLONE_NEWUSER`), which Linux allows
unprivileged processes unless the system forbids it.

The worker then checks what it got: only a loopback interface, and a connection to the
server's own listening address fails. If either does not hold, the worker refuses to start.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


class IsolationError(Exception):
    """The process could not be cut off from the network."""


def _unshare(flags: int) -> int:
    """0, or the errno of a failed `unshare(flags)`."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(ctypes.c_int(flags)) == 0:
        return 0
    return ctypes.get_errno()


def leave_network(probe: tuple[str, int] | None = None) -> str:
    """Move this process into a network namespace of its own and check that it has no network;
    `probe` is an address that must not be reachable afterwards (the server's own port).
    Returns how it was done; raises IsolationError when it could not be done or checked.
    Call it before the process starts any thread (a user namespace needs a single thread)."""
    how = "network namespace"
    failure = _unshare(CLONE_NEWNET)
    if failure in (errno.EPERM, errno.EINVAL):
        failure = _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        how = "user and network namespace"
    if failure:
        raise IsolationError(f"unshare failed: {os.strerror(failure)}")
    verify_no_network(probe)
    return how


def verify_no_network(probe: tuple[str, int] | None = None) -> None:
    """Raise IsolationError unless this process sees only a loopback interface and cannot
    connect to `probe` (nor to the loopback address at all)."""
    names = sorted(name for _i, name in socket.if_nameindex())
    if names != ["lo"]:
        raise IsolationError(f"the worker still sees network interfaces {names}")
    targets = [("127.0.0.1", 9)]
    if probe is not None:
        host = probe[0]
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1" if host != "::" else "::1"
        targets.append((host, probe[1]))
    for host, port in targets:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            code = sock.connect_ex((host, port))
        # Refused means a loopback that is up: a listener there would have been reached.
        if code in (0, errno.ECONNREFUSED):
            raise IsolationError(f"the worker can still reach {host}:{port}")
