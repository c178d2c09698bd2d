"""A small interpreter of Apache mod_rewrite rules (the subset the release ships: RewriteBase,
RewriteCond on %{HTTP_ACCEPT} and %{REQUEST_FILENAME}, RewriteRule with R=NNN and L), so that
the tests can check what `.htaccess` and `w3id.htaccess` do without an Apache server.
Anything outside the subset is an error, so a rule the interpreter does not know cannot pass."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

KNOWN = {
    "AddType",
    "AddCharset",
    "Options",
    "DirectoryIndex",
    "RewriteEngine",
    "RewriteBase",
    "RewriteCond",
    "RewriteRule",
    "<IfModule",
    "</IfModule>",
    "Header",
}


@dataclass
class Result:
    path: str  # the rewritten path or URL
    status: int | None  # the redirect status, None for an internal rewrite


def _backrefs(text: str, m: re.Match) -> str:
    return re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))) or "", text)


def parse(text: str) -> list[list[str]]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, posix=False)
        if words[0] not in KNOWN:
            raise ValueError(f"unknown directive: {line}")
        if words[0] == "RewriteRule":
            re.compile(words[1])
        if words[0] == "RewriteCond":
            re.compile(words[2].lstrip("!")) if not words[2].startswith("-") else None
        lines.append(words)
    return lines


def rewrite(
    rules: list[list[str]],
    path: str,
    accept: str,
    is_file: Callable[[str], bool] = lambda _p: False,
) -> Result | None:
    """Apply `rules` (per-directory: `path` without the leading slash) once; None when no rule
    matched. `is_file` answers `-f` for a path relative to the folder."""
    base = "/"
    conds: list[list[str]] = []
    for words in rules:
        if words[0] == "RewriteBase":
            base = words[1]
        elif words[0] == "RewriteCond":
            conds.append(words)
        elif words[0] == "RewriteRule":
            pattern, target = words[1], words[2]
            flags = words[3].strip("[]").split(",") if len(words) > 3 else []
            pending, conds = conds, []
            m = re.search(pattern, path)
            if not m:
                continue
            if not all(_cond(c, path, accept, is_file, m) for c in pending):
                continue
            status = None
            for f in flags:
                if f.startswith("R="):
                    status = int(f[2:])
            if target == "-":
                return Result(path, status)
            out = _backrefs(target, m)
            if "://" not in out and not out.startswith("/"):
                out = base + out
            return Result(out, status)
    return None


def _cond(
    words: list[str], path: str, accept: str, is_file: Callable[[str], bool], m: re.Match
) -> bool:
    test, pattern = words[1], words[2]
    if test == "%{HTTP_ACCEPT}":
        value = accept
    elif test.startswith("%{REQUEST_FILENAME}"):
        value = path + test[len("%{REQUEST_FILENAME}") :]
    else:
        raise ValueError(f"unsupported RewriteCond {words}")
    if pattern == "-f":
        return is_file(value)
    if pattern == "!-f":
        return not is_file(value)
    negate = pattern.startswith("!")
    found = re.search(pattern.lstrip("!"), value) is not None
    return found != negate
