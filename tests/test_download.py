"""kg.sources.download: a repository snapshot downloaded from a real HTTP server on a free
loopback port (archives built here from tests/fixtures/download/), extracted safely and
atomically. Every hostile archive is refused with the member's name and changes nothing."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import free_port
from kg.errors import KgError
from kg.http import HttpClient, Retry
from kg.sources.download import SNAPSHOT_FILE, download_snapshot, snapshot_info
from webfixture import Answer, web_server

FIXTURE = Path(__file__).parent / "fixtures" / "download" / "snapshot"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
TOP = f"snapshot-{COMMIT[:7]}"


def _files() -> dict[str, bytes]:
    return {
        p.relative_to(FIXTURE).as_posix(): p.read_bytes()
        for p in sorted(FIXTURE.rglob("*"))
        if p.is_file()
    }


def tar_gz(extra: Callable[[tarfile.TarFile], None] | None = None, top: str = TOP) -> bytes:
    """A codeload-style .tar.gz: one top folder, the commit in the pax global header."""
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": COMMIT}
    ) as tar:
        info = tarfile.TarInfo(top)
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for name, data in _files().items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra:
            extra(tar)
    return buf.getvalue()


def zip_bytes(extra: Callable[[zipfile.ZipFile], None] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.comment = COMMIT.encode()
        for name, data in _files().items():
            zf.writestr(f"{TOP}/{name}", data)
        if extra:
            extra(zf)
    return buf.getvalue()


def _client() -> HttpClient:
    return HttpClient(retry=Retry(attempts=2, backoff=0.01), timeout=5)


def _get(url: str, dest: Path, **kw) -> Path:
    with _client() as client:
        return download_snapshot(url, dest, progress=False, client=client, **kw)


@pytest.mark.parametrize(("name", "make"), [("main.tar.gz", tar_gz), ("main.zip", zip_bytes)])
def test_a_snapshot_is_downloaded_and_extracted(tmp_path: Path, name: str, make):
    archive = make()
    with web_server({f"/{name}": Answer(archive)}) as web:
        folder = _get(f"{web.url}/{name}", tmp_path / "eosai")
    assert folder == tmp_path / "eosai" / TOP
    got = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert got == _files()
    info = snapshot_info(folder)
    assert info is not None and info.commit == COMMIT and info.bytes == len(archive)
    assert info.url == f"{web.url}/{name}" and info.format == name.split(".", 1)[1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_new_snapshot_replaces_the_old_one(tmp_path: Path):
    dest = tmp_path / "mot"
    with web_server({"/a.tar.gz": Answer(tar_gz())}) as web:
        _get(f"{web.url}/a.tar.gz", dest)
        (dest / TOP / "stale.txt").write_text("from before")
        web.routes["/a.tar.gz"] = Answer(tar_gz(top="snapshot-new"))
        folder = _get(f"{web.url}/a.tar.gz", dest)
    assert folder.name == "snapshot-new"
    assert sorted(p.name for p in dest.iterdir()) == sorted([SNAPSHOT_FILE, "snapshot-new"])


def _existing(dest: Path) -> dict[str, bytes]:
    dest.mkdir(parents=True)
    (dest / "kept.txt").write_text("the previous snapshot")
    return {p.name: p.read_bytes() for p in dest.iterdir()}


def _unchanged(dest: Path, before: dict[str, bytes]) -> None:
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert [p.name for p in dest.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (Answer(status=404), "HTTP 404 Not Found"),
        (Answer(b"", fail=5, fail_status=500), "HTTP 500 Internal Server Error"),
        (Answer(tar_gz(), cut=200), "cut off"),
        (Answer(b"<html>not an archive</html>"), "not a .tar.gz or .zip archive"),
        (Answer(tar_gz()[:-40]), "damaged or truncated"),
        (Answer(zip_bytes()[:-60]), "damaged or truncated"),
    ],
    ids=["404", "500", "connection-cut", "not-an-archive", "truncated-tar", "truncated-zip"],
)
def test_bad_answers_are_clear_errors_and_change_nothing(tmp_path: Path, answer, words: str):
    dest = tmp_path / "snap"
    before = _existing(dest)
    with web_server({"/s": answer}) as web, pytest.raises(KgError) as info:
        _get(f"{web.url}/s", dest)
    assert words in str(info.value)
    assert "/s" in str(info.value) or "archive" in str(info.value)
    _unchanged(dest, before)


def test_offline_is_a_clear_error(tmp_path: Path):
    dest = tmp_path / "snap"
    before = _existing(dest)
    url = f"http://127.0.0.1:{free_port()}/main.tar.gz"
    with pytest.raises(KgError, match=f"cannot reach {url}.*offline"):
        _get(url, dest)
    _unchanged(dest, before)


def test_plain_http_only_to_this_machine(tmp_path: Path):
    with pytest.raises(KgError, match="over https"):
        download_snapshot("http://example.org/a.tar.gz", tmp_path / "x", progress=False)
    with pytest.raises(KgError, match="over https"):
        download_snapshot("file:///etc/passwd", tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_size_caps(tmp_path: Path):
    archive = tar_gz()
    with web_server({"/a.tar.gz": Answer(archive)}) as web:
        with pytest.raises(KgError, match="more than the limit of 100 bytes"):
            _get(f"{web.url}/a.tar.gz", tmp_path / "a", max_bytes=100)
        with pytest.raises(KgError, match="unpacks to more than the limit of 10 bytes"):
            _get(f"{web.url}/a.tar.gz", tmp_path / "b", max_extracted=10)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"x"):
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    return add


def _zip_member(name: str, data: bytes = b"x", mode: int | None = None):
    def add(zf: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)

    return add


HOSTILE = {
    "tar-absolute": (lambda: tar_gz(_tar_member("/tmp/evil.txt")), "absolute path"),
    "tar-dotdot": (lambda: tar_gz(_tar_member(f"{TOP}/../../evil.txt")), "climbs out with '..'"),
    "tar-symlink-out": (
        lambda: tar_gz(_tar_member(f"{TOP}/link", tarfile.SYMTYPE, "../../../etc")),
        "links outside the snapshot",
    ),
    "tar-symlink-absolute": (
        lambda: tar_gz(_tar_member(f"{TOP}/link", tarfile.SYMTYPE, "/etc/passwd")),
        "links to the absolute path",
    ),
    "tar-hardlink-out": (
        lambda: tar_gz(_tar_member(f"{TOP}/hard", tarfile.LNKTYPE, "../outside")),
        "climbs out with '..'",
    ),
    "tar-device": (lambda: tar_gz(_tar_member(f"{TOP}/dev", tarfile.CHRTYPE)), "device file"),
    "tar-fifo": (lambda: tar_gz(_tar_member(f"{TOP}/fifo", tarfile.FIFOTYPE)), "device file"),
    "zip-absolute": (lambda: zip_bytes(_zip_member("/tmp/evil.txt")), "absolute path"),
    "zip-dotdot": (lambda: zip_bytes(_zip_member("../evil.txt")), "climbs out with '..'"),
    "zip-backslash": (lambda: zip_bytes(_zip_member("..\\evil.txt")), "climbs out with '..'"),
    "zip-symlink-out": (
        lambda: zip_bytes(_zip_member(f"{TOP}/link", b"../../etc", 0o120777)),
        "links outside the snapshot",
    ),
    "zip-device": (lambda: zip_bytes(_zip_member(f"{TOP}/dev", b"", 0o020644)), "device file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused(tmp_path: Path, case: str):
    make, words = HOSTILE[case]
    dest = tmp_path / "work" / "snap"
    before = _existing(dest)
    with web_server({"/a": Answer(make())}) as web, pytest.raises(KgError) as info:
        _get(f"{web.url}/a", dest)
    assert words in str(info.value) and "refused" in str(info.value)
    _unchanged(dest, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # nothing written outside
    assert not Path("/tmp/evil.txt").exists()


def test_links_inside_the_snapshot_are_kept(tmp_path: Path):
    archive = tar_gz(_tar_member(f"{TOP}/readme-link", tarfile.SYMTYPE, "README.md"))
    with web_server({"/a": Answer(archive)}) as web:
        folder = _get(f"{web.url}/a", tmp_path / "snap")
    assert (folder / "readme-link").is_symlink()
    assert (folder / "readme-link").read_bytes() == _files()["README.md"]


def test_snapshot_record_is_json(tmp_path: Path):
    with web_server({"/a": Answer(zip_bytes())}) as web:
        _get(f"{web.url}/a", tmp_path / "snap")
    record = json.loads((tmp_path / "snap" / SNAPSHOT_FILE).read_text())
    assert set(record) == {"url", "sha256", "bytes", "commit", "retrieved", "format"}
