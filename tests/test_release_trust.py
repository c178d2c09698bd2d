"""Releases you can trust: verified against their manifest before they are served or published,
builds into one output folder taking turns, killed builds' staging folders cleaned, and the
release kept for rollback chosen by the order releases became current (issue 10, item 5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Built, run_kg
from kg.errors import KgError
from kg.paths import resource_dir
from kg.release.build import HISTORY, build_lock, clean_staging, make_current, previous_release
from kg.release.release import Release


def current_release(out: Path) -> Path:
    return Release.current(out).path


def read_manifest(release: Path) -> dict:
    return Release(release).manifest


def verify_release(release: Path, *, store: bool = True) -> dict:
    return Release(release).verify(store=store).manifest


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def release(built: Built, tmp_path: Path) -> Path:
    """A private copy of the session's release, free to damage."""
    copy = tmp_path / "output"
    shutil.copytree(built.out, copy, symlinks=True)
    return current_release(copy)


def test_a_fresh_release_verifies(built: Built):
    release = current_release(built.out)
    manifest = verify_release(release)
    files = manifest["files"]
    assert {"dumps/dataset.nq", "dumps/dataset.trig", "dumps/ontology.ttl"} <= set(files)
    assert any(name.startswith("store/") and name.endswith(".sst") for name in files)
    assert not {"store/LOCK", "store/LOG"} & set(files)  # RocksDB rewrites those freely


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _largest_sst(release: Path) -> Path:
    return max((release / "store").glob("*.sst"), key=lambda p: p.stat().st_size)


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda r: _truncate(r / "dumps" / "dataset.nq"), "dataset.nq has"),
        (lambda r: _flip(r / "dumps" / "dataset.trig"), "dataset.trig: sha256 differs"),
        (lambda r: (r / "dumps" / "ontology.ttl").unlink(), "ontology.ttl is missing"),
        (lambda r: _flip(_largest_sst(r)), ".sst: sha256 differs"),
        (lambda r: _truncate(_largest_sst(r)), ".sst has"),
        (lambda r: (r / "store" / "999999.sst").write_bytes(b"x"), "999999.sst was not written"),
        (lambda r: _flip(r / "overview" / "folded.json"), "folded.json: sha256 differs"),
        (lambda r: (r / "overview" / "more.json").write_text("{}"), "more.json was not written"),
    ],
    ids=[
        "truncated-dump",
        "flipped-dump",
        "missing-dump",
        "flipped-sst",
        "truncated-sst",
        "extra",
        "flipped-overview",
        "extra-overview",
    ],
)
def test_a_damaged_release_is_refused_naming_the_file(release: Path, damage, words: str):
    damage(release)
    with pytest.raises(KgError, match="corrupt or truncated") as info:
        verify_release(release)
    assert words in str(info.value)
    assert str(release) in str(info.value)


def test_store_counts_are_checked_against_the_manifest(release: Path):
    """Files intact but a manifest whose triple counts differ from what the store holds."""
    manifest = read_manifest(release)
    graph = sorted(manifest["graphs"])[0]
    manifest["graphs"][graph] += 1
    (release / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KgError, match=f"graph {graph} holds"):
        verify_release(release)
    verify_release(release, store=False)  # the cheap check alone reads files only


def test_a_release_without_digests_is_refused(release: Path):
    manifest = read_manifest(release)
    del manifest["files"]
    (release / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KgError, match="records no file digests"):
        verify_release(release)


def test_serve_and_publish_refuse_a_truncated_dump(release: Path, tmp_path: Path):
    """Regression: a truncated dataset.nq was served silently (issue 10, item 5)."""
    out = release.parent.parent
    _truncate(release / "dumps" / "dataset.nq")
    served = run_kg("serve", "--port", "0", "--out", str(out))
    assert served.returncode == 2, served.stdout
    assert "dataset.nq" in served.stderr and "corrupt or truncated" in served.stderr
    published = run_kg("publish", "--site-dir", str(tmp_path / "site"), "--out", str(out))
    assert published.returncode == 2
    assert "dataset.nq" in " ".join(published.stderr.split())
    assert not (tmp_path / "site").exists()


def _fake_release(out: Path, build_id: str) -> None:
    folder = out / "releases" / build_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"build_id": build_id}))


def test_rollback_keeps_the_release_current_before_not_the_newest_folder(tmp_path: Path):
    """Regression: pruning by folder time removed the release that was current just before when
    it had been reused by a rebuild (its folder keeps its old time)."""
    out = tmp_path / "output"
    for build_id in ("aaaa", "bbbb"):
        _fake_release(out, build_id)
        make_current(out, build_id)
    make_current(out, "aaaa")  # a rebuild of the first sources reuses its release
    old = time.time() - 3600
    os.utime(out / "releases" / "aaaa", (old, old))  # older folder than bbbb
    _fake_release(out, "cccc")
    make_current(out, "cccc")
    assert sorted(p.name for p in (out / "releases").iterdir() if p.is_dir()) == ["aaaa", "cccc"]
    assert current_release(out).name == "cccc"
    assert previous_release(out) == "aaaa"
    history = json.loads((out / "releases" / HISTORY).read_text())
    assert history == ["aaaa", "bbbb", "aaaa", "cccc"]


def test_staging_folders_of_dead_builds_are_removed_live_ones_kept(tmp_path: Path):
    releases = tmp_path / "releases"
    dead, live = releases / ".staging-dead", releases / ".staging-live"
    for folder in (dead, live):
        (folder / "store").mkdir(parents=True)
    holder = subprocess.Popen(  # another process holds the live one, as a running build does
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
            str(live),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert clean_staging(releases) == [dead]
        assert live.is_dir() and not dead.exists()
    finally:
        holder.communicate("", timeout=10)


def _staging(out: Path) -> list[Path]:
    return list((out / "releases").glob(".staging-*"))


def test_builds_take_turns_and_a_killed_build_is_cleaned_up(tmp_path: Path):
    """A second build waits for the lock (saying so) or, with --no-wait, exits 2. Regression: a
    killed build's `.staging-*` folder stayed for ever; the next build now removes it."""
    out = tmp_path / "output"
    with build_lock(out):
        refused = run_kg("build", "--out", str(out), "--no-wait")
        assert refused.returncode == 2
        assert "another kg build (pid " in refused.stderr and "--no-wait" in refused.stderr
        waiting = subprocess.Popen(
            [sys.executable, "-m", "kg", "build", "--out", str(out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = waiting.stderr.readline()  # it says so while it waits for the lock
        assert f"waiting for another kg build (pid {os.getpid()}" in first
        assert not _staging(out)
    deadline = time.monotonic() + 120  # the lock is free: it goes on and starts staging
    while not _staging(out) and waiting.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    waiting.send_signal(signal.SIGKILL)
    waiting.communicate(timeout=30)
    assert _staging(out), "the build finished before the kill"
    assert not (out / "current").exists()
    again = run_kg("build", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert not _staging(out)
    verify_release(current_release(out))


def _variant(tmp_path: Path, n: int) -> Path:
    """A copy of the project's sources with one curator's note changed: a different release."""
    folder = tmp_path / f"sources-{n}"
    shutil.copytree(resource_dir("sources"), folder)
    orgs = folder / "curation" / "organisations.csv"
    text = orgs.read_text()
    assert "company,curator: " in text
    orgs.write_text(text.replace("company,curator: ", f"company,curator {n}: ", 1))
    return folder


@pytest.mark.slow
def test_three_concurrent_builds_of_different_sources(tmp_path: Path):
    """Regression: concurrent builds could leave `current` pointing at a release another build
    pruned, all exiting 0. Now they take turns; the one current last is complete and verifies,
    and the release kept beside it is the one current before."""
    out = tmp_path / "output"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kg", "build", "--out", str(out), "--sources", str(src)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for src in (_variant(tmp_path, n) for n in range(3))
    ]
    results = [p.communicate(timeout=600) for p in procs]
    for proc, (_stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
    history = json.loads((out / "releases" / HISTORY).read_text())
    assert len(set(history)) == 3
    current = current_release(out)
    assert current.name == history[-1]
    verify_release(current)
    kept = sorted(p.name for p in (out / "releases").iterdir() if p.is_dir())
    assert kept == sorted(history[-2:])
    assert previous_release(out) == history[-2]
    verify_release(out / "releases" / history[-2])
    assert not list((out / "releases").glob(".staging-*"))


class _Hashed(Exception):
    """Raised instead of hashing, to see whether a check hashes at all."""


def _no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.release.integrity as integrity

    def refuse(path: Path) -> str:
        raise _Hashed(str(path))

    monkeypatch.setattr(integrity, "sha256_file", refuse)


def test_the_build_stamps_its_release_so_serving_does_not_hash_it_again(
    built: Built, monkeypatch: pytest.MonkeyPatch
):
    """Decision 33: the build records each file's size, time and inode; a check finds them
    unchanged and neither hashes nor counts again."""
    import kg.release.integrity as integrity

    release = current_release(built.out)
    stamp = json.loads((release / integrity.STAMP).read_text())
    assert stamp["content"] is True and stamp["build_id"] == read_manifest(release)["build_id"]
    assert set(stamp["files"]) == set(read_manifest(release)["files"])
    _no_hashing(monkeypatch)

    def refuse(*args: object) -> None:
        raise _Hashed("counted")

    monkeypatch.setattr(integrity, "_verify_store_counts", refuse)
    verify_release(release)  # neither hashed nor counted


def test_a_changed_time_or_a_stamp_without_counts_means_a_full_check(
    release: Path, monkeypatch: pytest.MonkeyPatch
):
    import kg.release.integrity as integrity

    verify_release(release, store=False)  # a copy: new inodes, so a full check, then a stamp
    assert json.loads((release / integrity.STAMP).read_text())["content"] is False
    counted = []
    real = integrity._verify_store_counts
    monkeypatch.setattr(integrity, "_verify_store_counts", lambda *a: counted.append(real(*a)))
    verify_release(release)  # the stamp did not cover the counts: counted now
    assert len(counted) == 1
    _no_hashing(monkeypatch)
    verify_release(release)  # stamped with the counts now: nothing hashed, nothing counted
    assert len(counted) == 1
    trig = release / "dumps" / "dataset.trig"
    st = trig.stat()
    os.utime(trig, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(_Hashed):  # a file's time changed: hashed again
        verify_release(release)


def test_fully_finds_damage_that_kept_size_and_time(release: Path):
    """The stamp's limit: a change that keeps a file's size and modification time (a forged
    time, or bit rot) is found only by a full check (`fully`)."""
    verify_release(release)
    trig = release / "dumps" / "dataset.trig"
    st = trig.stat()
    _flip(trig)
    os.utime(trig, ns=(st.st_atime_ns, st.st_mtime_ns))
    verify_release(release)
    with pytest.raises(KgError, match=r"dataset\.trig: sha256 differs"):
        Release(release).verify(fully=True)


def test_a_stamp_holds_only_for_the_manifest_it_was_checked_against(
    release: Path, monkeypatch: pytest.MonkeyPatch
):
    """An edited manifest that keeps the build id (a graph's count, a file's hash) is checked in
    full: the stamp records the manifest's own digest (review of decision 33)."""
    verify_release(release)  # stamped
    path = release / "manifest.json"
    manifest = json.loads(path.read_text())
    rel = sorted(manifest["files"])[0]
    manifest["files"][rel]["sha256"] = "0" * 64
    st = path.stat()
    path.write_text(json.dumps(manifest))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(KgError, match="sha256 differs"):
        verify_release(release)


def test_a_file_changed_while_it_is_checked_is_not_stamped(
    release: Path, monkeypatch: pytest.MonkeyPatch
):
    """A copy still being written when a check hashes it: the check passes on what it read,
    but no stamp vouches for the file as it is now."""
    import kg.release.integrity as integrity

    real = integrity.sha256_file
    trig = release / "dumps" / "dataset.trig"

    def hash_then_touch(path: Path) -> str:
        digest = real(path)
        if path == trig:
            st = trig.stat()
            os.utime(trig, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        return digest

    monkeypatch.setattr(integrity, "sha256_file", hash_then_touch)
    (release / integrity.STAMP).unlink(missing_ok=True)
    verify_release(release)
    assert not (release / integrity.STAMP).exists()
