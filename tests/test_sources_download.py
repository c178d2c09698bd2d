"""`kg import eosai|mot` without DIR: the upstream snapshot is downloaded (from a real HTTP server
on a loopback port serving an archive of the fixtures, laid out as GitHub's codeload serves the
repository), and a failed download changes nothing in the workspace."""

from __future__ import annotations

import io
import json
import os
import socket
import tarfile
from pathlib import Path

import pytest

from conftest import run_kg
from webfixture import Answer, web_server

FIXTURES = Path(__file__).parent / "fixtures"
COMMIT = "5a388e8" + "0" * 33
# source -> (fixture folder, the archive's top folder as codeload names it, environment variable)
SOURCES = {
    "eosai": (FIXTURES / "eosai" / "good", "main-database-main", "KG_EOSAI_URL"),
    "mot": (FIXTURES / "mot" / "good", "model_openness_tool-main", "KG_MOT_URL"),
}


def archive(source: str) -> bytes:
    folder, top, _env = SOURCES[source]
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": COMMIT}
    ) as tar:
        tar.add(folder, arcname=top)
    return buf.getvalue()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("source", ["eosai", "mot"])
def test_without_dir_the_snapshot_is_downloaded(tmp_path: Path, source: str):
    ws = tmp_path / "ws"
    with web_server({"/snapshot.tar.gz": Answer(archive(source))}) as web:
        url = f"{web.url}/snapshot.tar.gz"
        # by option for one, by environment variable for the other
        if source == "eosai":
            proc = run_kg("import", source, "--url", url, "--workspace", str(ws))
        else:
            env = {**os.environ, SOURCES[source][2]: url}
            proc = run_kg("import", source, "--workspace", str(ws), env=env)
        assert proc.returncode == 0, proc.stderr
        assert web.count("/snapshot.tar.gz") == 1
    assert "Imported 3 " in proc.stdout and f"commit {COMMIT}" in proc.stdout
    lines = (ws / "imports" / f"{source}.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    provenance = json.loads((ws / "imports" / f"{source}.provenance.json").read_text())
    assert provenance["commit"] == COMMIT and provenance["folder"] == url
    # the same records as importing the fixture folder itself
    local = tmp_path / "local"
    assert (
        run_kg("import", source, str(SOURCES[source][0]), "--workspace", str(local)).returncode == 0
    )
    assert lines == (local / "imports" / f"{source}.jsonl").read_text().splitlines()


@pytest.mark.parametrize("source", ["eosai", "mot"])
def test_a_failed_download_changes_nothing(tmp_path: Path, source: str):
    ws = tmp_path / "ws"
    assert run_kg("import", source, str(SOURCES[source][0]), "--workspace", str(ws)).returncode == 0
    before = {p: p.read_bytes() for p in sorted(ws.rglob("*")) if p.is_file()}
    routes = {
        "/broken.tar.gz": Answer(b"<html>not an archive</html>"),
        "/cut.tar.gz": Answer(archive(source), cut=100),
        "/busy.tar.gz": Answer(b"", status=500),
    }
    with web_server(routes) as web:
        cases = {
            f"{web.url}/gone.tar.gz": "404",
            f"{web.url}/busy.tar.gz": "500",
            f"{web.url}/broken.tar.gz": "",
            f"{web.url}/cut.tar.gz": "",
            f"http://127.0.0.1:{closed_port()}/offline.tar.gz": "",
        }
        if source == "mot":  # the same code path: two cases suffice for the second source
            cases = dict(list(cases.items())[::4])
        for url, expected in cases.items():
            proc = run_kg("import", source, "--url", url, "--workspace", str(ws))
            assert proc.returncode == 2, (url, proc.stdout, proc.stderr)
            assert url in proc.stderr or url.split("/")[-1] in proc.stderr, proc.stderr
            assert expected in proc.stderr
            assert "Traceback" not in proc.stderr
    after = {p: p.read_bytes() for p in sorted(ws.rglob("*")) if p.is_file()}
    assert after == before
