"""Every import in the workspace (EOSAI, MOT) with the identities of its models, as quads."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Quad

from kg.mapping.eosai import eosai_quads
from kg.mapping.mot import mot_quads
from kg.mapping.sources import ImportMapper, resolve_all
from kg.sources import eosai, mot
from kg.sources.frameworks import Frameworks
from kg.sources.workspace import Workspace
from kg.vocab.namespaces import Base


def import_quads(
    root: Path,
    workspace: Workspace | None,
    base: Base,
    fw: Frameworks,
    paper: dict[str, list[str]],
) -> list[Quad]:
    """The framework tables, and every quad of the EOSAI and MOT imports in `workspace` (if
    any) with the identities of their models."""
    mapper = ImportMapper(base)
    quads = mapper.frameworks(fw)
    if workspace is None:
        return quads + mapper.meta.quads
    e = eosai.load_imported(workspace.path(eosai.IMPORT_FILE))
    m = mot.load_imported(workspace.path(mot.IMPORT_FILE))
    res = resolve_all(root, paper, e, m)
    quads += mapper.identities(res, set(paper))
    quads += eosai_quads(mapper, e, res, workspace.provenance("eosai"))
    quads += mot_quads(mapper, m, fw, res, workspace.provenance("mot"))
    return quads + mapper.meta.quads
