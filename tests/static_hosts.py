"""Real static web servers for the release folder: Python's `http.server` (a plain static host,
no configuration) and nginx with the release's own `nginx.conf` (when nginx is installed)."""

from __future__ import annotations

import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conftest import free_port, wait_for

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


class PlainStaticServer:
    """`python -m http.server 0` serving `folder`; `url` ends with a slash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ""

    def __enter__(self) -> PlainStaticServer:
        cmd = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*cmd, "--directory", str(self.folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sel.select(timeout=1):
            found = re.search(r"port (\d+)", self.proc.stdout.readline())
            if found:
                self.url = f"http://127.0.0.1:{found.group(1)}/"
                return self
        self.__exit__()
        raise RuntimeError("http.server did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class NginxServer:
    """nginx on a free loopback port, its root the folder that holds the release, with the
    release's `nginx.conf` (published for the site path `/`)."""

    def __init__(self, folder: Path, release: Path) -> None:
        self.folder = folder
        self.release = release

    def __enter__(self) -> NginxServer:
        assert NGINX is not None
        self.tmp = Path(tempfile.mkdtemp(prefix="kg-nginx-"))
        port = free_port()
        snippet = (self.release / "nginx.conf").read_text()
        http_part, server_part = snippet.split("# --- in the server block ---")
        (self.tmp / "nginx.conf").write_text(
            f"""daemon off;
master_process off;
worker_processes 1;
error_log {self.tmp}/error.log warn;
pid {self.tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {self.tmp}/body;
    proxy_temp_path {self.tmp}/proxy;
    fastcgi_temp_path {self.tmp}/fastcgi;
    uwsgi_temp_path {self.tmp}/uwsgi;
    scgi_temp_path {self.tmp}/scgi;
    default_type application/octet-stream;
{http_part}
    server {{
        listen 127.0.0.1:{port};
        root {self.folder};
{server_part}
    }}
}}
"""
        )
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(port, self.proc)
        self.url = f"http://127.0.0.1:{port}/"
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
