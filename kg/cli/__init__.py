"""The `kg` command: a typer app assembled from per-module command groups.

Exit codes: 0 ok; 1 the data does not conform (validate) or a check at or above --fail-on found
rows (check); 2 usage or runtime error.
"""

from __future__ import annotations

import sys

import typer

from kg.cli import build as build_cmd
from kg.cli import check as check_cmd
from kg.cli import docs as docs_cmd
from kg.cli import explain as explain_cmd
from kg.cli import imports as imports_cmd
from kg.cli import link as link_cmd
from kg.cli import publish as publish_cmd
from kg.cli import query as query_cmd
from kg.cli import reason as reason_cmd
from kg.cli import serve as serve_cmd
from kg.cli import validate as validate_cmd
from kg.errors import KgError

app = typer.Typer(
    name="kg",
    help="The GenAI openness knowledge graph (Eiras et al., arXiv:2404.17047).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's help rendering costs more than the rest
)

for module in (
    build_cmd,
    query_cmd,
    explain_cmd,
    validate_cmd,
    check_cmd,
    reason_cmd,
    imports_cmd,
    link_cmd,
    publish_cmd,
    serve_cmd,
    docs_cmd,
):
    module.register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except KgError as exc:  # pragma: no cover - commands report their own errors
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
