"""Download a repository snapshot (a .tar.gz or .zip archive, such as GitHub's
`https://codeload.github.com/OWNER/REPO/tar.gz/refs/heads/main`) and extract it safely.

    folder = download_snapshot(url, dest_dir, progress=True)

- over HTTPS (plain http only to a loopback address: a local mirror or a test server), through
  `kg.http.HttpClient` (timeouts, retries, no redirect to another host unless `allow_hosts`);
- a progress bar on a terminal, nothing otherwise;
- at most `max_bytes` downloaded and `max_extracted` bytes extracted (an archive bomb stops);
- safe extraction: no absolute path, no `..`, no link pointing outside the snapshot, no device
  file or FIFO; anything else is refused with the member's name;
- atomic: the archive is downloaded and extracted into a temporary folder beside `dest_dir`,
  which replaces `dest_dir` only when all went well; on any failure `dest_dir` is as it was.

Returns the extracted folder: the archive's single top-level folder if it has one (GitHub's
`REPO-COMMIT/`), otherwise `dest_dir`. `dest_dir/SNAPSHOT_FILE` records where it came from
(URL, sha256 and size of the archive, the commit GitHub writes into the archive's comment,
the retrieval time), for the importers' provenance: see `snapshot_info`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.parse
import zipfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import httpx

from kg.errors import KgError
from kg.http import HttpClient

MAX_BYTES = 512 * 1024 * 1024  # the download
MAX_EXTRACTED = 2 * 1024 * 1024 * 1024  # all files of the archive, uncompressed
MAX_MEMBERS = 200_000
SNAPSHOT_FILE = ".kg-snapshot.json"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class SnapshotInfo:
    url: str
    sha256: str  # of the archive as downloaded
    bytes: int
    commit: str | None  # from the archive's comment (GitHub writes the commit there)
    retrieved: str  # ISO 8601, UTC
    format: str  # tar.gz or zip


class UnsafeArchive(KgError):
    """An archive member that would land outside the snapshot or is not a plain file."""


def snapshot_info(folder: Path) -> SnapshotInfo | None:
    """Where a downloaded snapshot came from (None for a folder not made by download_snapshot):
    read from `folder/SNAPSHOT_FILE` or its parent's (when `folder` is the archive's top-level
    folder)."""
    for candidate in (folder / SNAPSHOT_FILE, folder.parent / SNAPSHOT_FILE):
        if candidate.is_file():
            return SnapshotInfo(**json.loads(candidate.read_text(encoding="utf-8")))
    return None


def download_snapshot(
    url: str,
    dest_dir: Path,
    *,
    progress: bool = True,
    max_bytes: int = MAX_BYTES,
    max_extracted: int = MAX_EXTRACTED,
    client: HttpClient | None = None,
    allow_hosts: tuple[str, ...] = (),
) -> Path:
    """Download the archive at `url` and extract it into `dest_dir` (see the module docstring).
    Every failure is a KgError naming the URL or the archive member; `dest_dir` is then
    untouched."""
    _check_url(url)
    dest_dir = Path(dest_dir)
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}.download-", dir=dest_dir.parent))
    try:
        archive = work / "archive"
        with ExitStack() as stack:
            if client is None:
                client = stack.enter_context(
                    HttpClient(purpose="snapshot download", allow_hosts=allow_hosts)
                )
            digest, size = _fetch(client, url, archive, max_bytes, progress)
        kind, commit = _extract(url, archive, work / "tree", max_extracted)
        info = SnapshotInfo(
            url=url,
            sha256=digest,
            bytes=size,
            commit=commit,
            retrieved=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            format=kind,
        )
        tree = work / "tree"
        (tree / SNAPSHOT_FILE).write_text(json.dumps(asdict(info), indent=1) + "\n")
        _replace(tree, dest_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    entries = [p for p in dest_dir.iterdir() if p.name != SNAPSHOT_FILE]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return dest_dir


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return
    raise KgError(
        f"'{url}': a snapshot is downloaded over https (plain http only from this machine)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fetch(
    client: HttpClient, url: str, target: Path, max_bytes: int, progress: bool
) -> tuple[str, int]:
    """Stream the answer into `target`; (sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", url, step="download") as response:
        declared = response.headers.get("Content-Length")
        total = int(declared) if declared and declared.isdigit() else None
        if total is not None and total > max_bytes:
            raise KgError(
                f"download: {url} is {total} bytes, more than the limit of {max_bytes} bytes"
            )
        with ExitStack() as stack:
            bar = stack.enter_context(_Bar(url, total, progress))
            f = stack.enter_context(target.open("wb"))
            try:
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise KgError(
                            f"download: {url} sends more than the limit of {max_bytes} bytes"
                        )
                    digest.update(chunk)
                    f.write(chunk)
                    bar.advance(len(chunk))
            except httpx.HTTPError as exc:
                raise client.network_error(
                    "download (the answer was cut off)", "GET", url, exc
                ) from None
    if total is not None and size != total:  # httpx checks this too; never trust one place
        raise KgError(f"download: {url} sent {size} of the {total} bytes it announced")
    return digest.hexdigest(), size


class _Bar:
    """A rich progress bar on a terminal (stderr); nothing otherwise."""

    def __init__(self, url: str, total: int | None, enabled: bool) -> None:
        self._progress = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("[dim]downloading[/] {task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            name = PurePosixPath(urllib.parse.urlsplit(url).path).name or url
            self._task = self._progress.add_task(name, total=total)

    def __enter__(self) -> _Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _extract(url: str, archive: Path, tree: Path, max_extracted: int) -> tuple[str, str | None]:
    """Extract `archive` into `tree` after checking every member; (format, commit or None)."""
    with archive.open("rb") as f:
        magic = f.read(4)
    tree.mkdir()
    try:
        if magic[:2] == b"\x1f\x8b":
            return "tar.gz", _extract_tar(archive, tree, max_extracted)
        if magic == b"PK\x03\x04":
            return "zip", _extract_zip(archive, tree, max_extracted)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, KgError):
            raise
        raise KgError(f"{url}: the archive is damaged or truncated ({exc})") from None
    raise KgError(f"{url}: the answer is not a .tar.gz or .zip archive")


def _member_path(tree: Path, name: str) -> Path:
    """Where member `name` goes, refusing absolute paths, `..` and anything outside `tree`."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or name.startswith(("/", "\\")) or (pure.parts and ":" in pure.parts[0]):
        raise UnsafeArchive(f"archive member '{name}' has an absolute path; refused")
    if ".." in pure.parts:
        raise UnsafeArchive(f"archive member '{name}' climbs out with '..'; refused")
    target = tree.joinpath(*[p for p in pure.parts if p not in ("", ".")])
    if not _inside(tree, target):
        raise UnsafeArchive(f"archive member '{name}' would land outside the snapshot; refused")
    return target


def _inside(tree: Path, target: Path) -> bool:
    root = os.path.realpath(tree)
    real = os.path.realpath(target)
    return real == root or real.startswith(root + os.sep)


def _check_link(tree: Path, target: Path, name: str, link: str) -> None:
    """A link (symbolic or hard) must point inside the snapshot."""
    if os.path.isabs(link) or link.startswith(("/", "\\")):
        raise UnsafeArchive(f"archive member '{name}' links to the absolute path '{link}'; refused")
    resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
    root = os.path.normpath(tree)
    if not (resolved == root or resolved.startswith(root + os.sep)):
        raise UnsafeArchive(
            f"archive member '{name}' links outside the snapshot ('{link}'); refused"
        )


def _copy(source: IO[bytes], target: Path, budget: list[int], name: str) -> None:
    """Copy one member's bytes; `budget` is [bytes left, the limit]. Links are made only after
    every file is written, so no path here passes through one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise KgError(
                    f"archive member '{name}': the archive unpacks to more than the limit of "
                    f"{budget[1]} bytes; refused"
                )
            out.write(chunk)


def _extract_tar(archive: Path, tree: Path, max_extracted: int) -> str | None:
    budget = [max_extracted, max_extracted]
    links: list[tuple[Path, str, str, bool]] = []
    with tarfile.open(archive, "r:gz") as tar:
        commit = tar.pax_headers.get("comment") if tar.pax_headers else None
        count = 0
        for member in tar:
            count += 1
            if count > MAX_MEMBERS:
                raise UnsafeArchive(f"the archive has more than {MAX_MEMBERS} members; refused")
            if member.name in ("pax_global_header",) and member.type == tarfile.XGLTYPE:
                continue
            target = _member_path(tree, member.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                source = tar.extractfile(member)
                assert source is not None
                _copy(source, target, budget, member.name)
                os.chmod(target, 0o644 | (0o111 if member.mode & 0o100 else 0))
            elif member.issym() or member.islnk():
                if member.issym():
                    _check_link(tree, target, member.name, member.linkname)
                else:  # a hard link names another member, from the archive's root
                    _member_path(tree, member.linkname)
                links.append((target, member.linkname, member.name, member.issym()))
            else:
                raise UnsafeArchive(
                    f"archive member '{member.name}' is a device file or FIFO; refused"
                )
    for target, link, name, symbolic in links:  # after the files, so no write goes through one
        target.parent.mkdir(parents=True, exist_ok=True)
        if symbolic:
            os.symlink(link, target)
        else:
            linked = _member_path(tree, link)
            if not linked.is_file() or linked.is_symlink():
                raise UnsafeArchive(f"archive member '{name}' hard-links to a missing file")
            shutil.copyfile(linked, target)
    return commit if commit and len(commit) == 40 else None


def _extract_zip(archive: Path, tree: Path, max_extracted: int) -> str | None:
    budget = [max_extracted, max_extracted]
    links: list[tuple[Path, str]] = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UnsafeArchive(f"the archive has more than {MAX_MEMBERS} members; refused")
        for info in infos:
            target = _member_path(tree, info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix type recorded
            if info.is_dir() or kind == stat.S_IFDIR:
                target.mkdir(parents=True, exist_ok=True)
            elif kind == stat.S_IFLNK:
                link = zf.read(info).decode("utf-8", "replace")
                _check_link(tree, target, info.filename, link)
                links.append((target, link))
            elif kind not in (0, stat.S_IFREG):
                raise UnsafeArchive(
                    f"archive member '{info.filename}' is a device file or FIFO; refused"
                )
            else:
                with zf.open(info) as source:
                    _copy(source, target, budget, info.filename)
        comment = zf.comment.decode("ascii", "replace").strip()
    for target, link in links:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, target)
    return comment if len(comment) == 40 else None


def _replace(tree: Path, dest_dir: Path, work: Path) -> None:
    """Put `tree` at `dest_dir`; an existing `dest_dir` is moved aside first and removed after,
    so a failure leaves it in place."""
    if dest_dir.exists() or dest_dir.is_symlink():
        aside = work / "previous"
        os.rename(dest_dir, aside)
        try:
            os.rename(tree, dest_dir)
        except BaseException:
            os.rename(aside, dest_dir)
            raise
    else:
        os.rename(tree, dest_dir)
