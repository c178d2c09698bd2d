"""Templates for what people read: jinja2, autoescaping HTML; Markdown cells escaped by `md`."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


def md_cell(value: Any) -> str:
    """A value as one Markdown table cell: pipes escaped, line breaks folded into spaces."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kg.outputs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        undefined=jinja2.StrictUndefined,  # a missing value is an error, never an empty cell
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_cell
    return env


def render(name: str, **context: Any) -> str:
    """Render the template `kg/outputs/templates/NAME` with `context`."""
    return environment().get_template(name).render(**context)
