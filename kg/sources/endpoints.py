"""The public services the importers and linkers talk to by default, in a module of their own
so that the command line can show them in `--help` without importing the readers."""

from __future__ import annotations

WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
HUGGING_FACE_HUB = "https://huggingface.co"
