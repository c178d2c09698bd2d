"""Where the project's resource folders are, in a source checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder `name` (ontology, queries, shapes, sources).

    In a checkout (or an editable install) it is the top-level folder beside `kg/`; in a wheel
    it is shipped as `kg/_data/<name>`.
    """
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"resource folder '{name}' not found next to {_PACKAGE}")
