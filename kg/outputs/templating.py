"""Templates for what people read: jinja2, autoescaping HTML; Markdown cells escaped by `md`."""

from __future__ import annotations

import html
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup


def md_cell(value: Any) -> str:
    """A value as one Markdown table cell: pipes escaped, line breaks folded into spaces."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


@jinja2.pass_eval_context
def escape_as_stdlib(context: jinja2.nodes.EvalContext, value: Any) -> Any:
    """In autoescaped templates, escape each value as `html.escape` does (`&quot;`, `&#x27;`),
    as the pages were escaped before they had templates; `Markup` passes unchanged. Elsewhere
    (Markdown) values pass unchanged."""
    if not context.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kg.outputs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        undefined=jinja2.StrictUndefined,  # a missing value is an error, never an empty cell
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=escape_as_stdlib,
    )
    env.filters["md"] = md_cell
    return env


def render(name: str, **context: Any) -> str:
    """Render the template `kg/outputs/templates/NAME` with `context`."""
    return environment().get_template(name).render(**context)
