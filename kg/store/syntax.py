"""SPARQL syntax errors as a reader can use them: the line and column, a short message, and the
line with a caret under the place, instead of the parser's list of every token it could take
(which, for a prefixed name, spells out the Unicode ranges of a name's characters)."""

from __future__ import annotations

import re

_AT = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)
_KEYWORD = re.compile(r'(?<![\w\'"])([A-Z][A-Z_]+|"[^"\s]{1,12}")(?![\w\'"])')
_NAME = re.compile(r"[A-Za-z_][\w.-]*:[\w.:%-]*|[^\s{}()<>]+")
SHOWN = 6  # expected tokens named at most


def readable(message: str, query: str) -> str:
    """The parser's `message` about `query`, made short: `line L, column C: …` and the line
    itself with a caret. A message without a position is returned as it is."""
    found = _AT.search(message)
    if not found:
        return message
    line_no, column = int(found.group(1)), int(found.group(2))
    rest = found.group(3)
    lines = query.splitlines() or [""]
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    here = max(0, min(column - 1, len(line)))
    if "Prefix not found" in rest:
        start = here
        while start > 0 and not line[start - 1].isspace() and line[start - 1] not in "{(;,":
            start -= 1
        name = _NAME.match(line, start)
        prefix = (name.group(0) if name else line[start:here]).partition(":")[0]
        short = f"the prefix '{prefix}:' is not declared (add PREFIX {prefix}: <…>)"
    else:
        token = _NAME.match(line, here)
        what = f"'{token.group(0)}'" if token else "the end of the line"
        expected = list(dict.fromkeys(_KEYWORD.findall(rest.partition("expected")[2])))
        if expected:
            more = len(expected) - SHOWN
            named = ", ".join(expected[:SHOWN]) + (f" or {more} more" if more > 0 else "")
            short = f"found {what} where the parser expected {named}"
        else:
            short = f"the parser did not expect {what}"
    return f"line {line_no}, column {column}: {short}\n  {line}\n  {' ' * here}^"
