"""Model identity across sources: which model (and which variant of a family) each record is about.

Rules, in order, for each record of each source (the paper first, then the sources in a fixed
order, so the outcome never depends on the order files were imported in):

1. curated: a row of `sources/curation/model-identities.csv` (source, record, model, variant_of,
   basis) decides, with its basis;
2. same name: the record's name, normalised (lower case, letters and digits only), is the name of
   exactly one model already known (the paper's Table 2 or Table 3 name, or an earlier record);
3. same Hugging Face repository: the record names a repository that another source gives for
   exactly one model;
4. a variant of a known family: the name without its size (7B, 8x7B, 1.5B), kind (chat,
   instruct, base, it) and version tokens is the normalised name of exactly one known model;
5. otherwise the record is a model of its own, minted from its name, and reported as unmatched:
   never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.errors import SourceError
from kg.sources.csvio import read_table

CURATION_FILE = "curation/model-identities.csv"
COLUMNS = ["source", "record", "model", "variant_of", "basis"]
SOURCES = ("tracker", "eosai", "mot")  # the order identities are resolved in
KINDS = {
    "chat": "chat",
    "instruct": "instruct",
    "it": "instruct",
    "base": "base",
    "sft": "instruct",
}
_SIZE = re.compile(r"^(\d+x)?\d+(\.\d+)?[bmkt]$", re.IGNORECASE)
_VERSION = re.compile(r"^v\d+(\.\d+)*$", re.IGNORECASE)


def normalise(name: str) -> str:
    """Lower case, letters and digits only; '+' is kept as 'plus' (CodeT5+ is not CodeT5)."""
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("+", "plus"))


def slug(name: str) -> str:
    """Kebab-case: 'CodeT5+ 16B' -> 'codet5-plus-16b'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("+", "-plus")).strip("-")


def record_slug(file: str) -> str:
    """The IRI slug of a source record, from its file name without the extension."""
    return slug(Path(file).stem)


def check_record_slugs(files: list[Path]) -> None:
    """Two files whose names give the same record IRI are an error naming both."""
    slugs: dict[str, str] = {}
    for path in files:
        key = record_slug(path.name)
        if key in slugs:
            raise SourceError(
                path.name,
                f"the file names {slugs[key]} and {path.name} give the same identifier "
                f"'{key}': rename one",
            )
        slugs[key] = path.name


@dataclass(frozen=True)
class Variant:
    family: str  # the name without size, kind and version tokens
    size: str  # as written (70B), or ""
    kind: str  # base, chat, instruct, or ""
    version: str  # v0.1, or ""


def parse_variant(name: str) -> Variant | None:
    """Split 'Llama-2-chat-70B' into family 'Llama-2', size '70B', kind 'chat'. None when the
    name has no size, kind or version token (it names no variant)."""
    tokens = [t for t in re.split(r"[-_\s]+", name.strip()) if t]
    family, size, kind, version = [], "", "", ""
    for t in tokens:
        low = t.lower()
        if _SIZE.match(t) and not size:
            size = t
        elif low in KINDS and not kind:
            kind = KINDS[low]
        elif _VERSION.match(t) and not version:
            version = t
        else:
            family.append(t)
    if not family or not (size or kind or version):
        return None
    return Variant("-".join(family), size, kind, version)


@dataclass(frozen=True)
class Record:
    """What identity needs of one source record."""

    source: str
    record: str  # the file (or row) the source states it in
    name: str
    hf_repos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identity:
    source: str
    record: str
    name: str
    model: str  # model id (IRI slug)
    variant_of: str  # family model id, or ""
    variant: Variant | None
    basis: str
    matched: bool  # False: the model (and its family) is in no other source (reported)
    minted: bool  # True: this record introduces the model id


@dataclass(frozen=True)
class Curated:
    model: str
    variant_of: str
    basis: str


@dataclass
class Resolution:
    identities: list[Identity] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # minted model id -> label

    def of(self, source: str, record: str) -> Identity:
        return self._index[(source, record)]

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str], Identity] = {}

    def add(self, identity: Identity) -> None:
        """Add an identity, or replace the one already given for the same record."""
        key = (identity.source, identity.record)
        if key in self._index:
            self.identities = [
                identity if (i.source, i.record) == key else i for i in self.identities
            ]
        else:
            self.identities.append(identity)
        self._index[key] = identity

    def finish(self, paper: set[str]) -> None:
        """A record is matched when its model, or its family, is also in another source."""
        sources: dict[str, set[str]] = {m: {"paper"} for m in paper}
        for i in self.identities:
            sources.setdefault(i.variant_of or i.model, set()).add(i.source)
        self.identities = [
            replace(i, matched=len(sources[i.variant_of or i.model]) > 1) for i in self.identities
        ]
        self._index = {(i.source, i.record): i for i in self.identities}

    @property
    def unmatched(self) -> list[Identity]:
        return [i for i in self.identities if not i.matched]


def load_curated(root: Path) -> dict[tuple[str, str], Curated]:
    path = root / CURATION_FILE
    if not path.exists():
        return {}
    out: dict[tuple[str, str], Curated] = {}
    for row in read_table(path, COLUMNS, display=CURATION_FILE):
        if row["source"] not in SOURCES:
            raise row.error(f"unknown source '{row['source']}'", field="source")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", row["model"]):
            raise row.error(f"'{row['model']}' is not a kebab-case model id", field="model")
        if not row["basis"].strip():
            raise row.error("every identity needs a basis", field="basis")
        key = (row["source"], row["record"])
        if key in out:
            raise row.error("a second row for the same record", field="record")
        out[key] = Curated(row["model"], row["variant_of"], row["basis"])
    return out


def resolve(
    paper: dict[str, list[str]],
    records: list[Record],
    curated: dict[tuple[str, str], Curated],
) -> Resolution:
    """`paper` maps each paper model id to its names. Records are resolved source by source in
    SOURCES order, then by record, so the result is the same whatever the import order."""
    names: dict[str, set[str]] = {}  # normalised name -> model ids
    repos: dict[str, set[tuple[str, str]]] = {}  # HF repo (lower case) -> (model id, source)
    known: set[str] = set(paper)
    for mid, labels in paper.items():
        for label in labels:
            names.setdefault(normalise(label), set()).add(mid)
    result = Resolution()
    parents: list[tuple[Record, str]] = []  # (record, the family it is a variant of)
    order = {s: i for i, s in enumerate(SOURCES)}
    for rec in sorted(records, key=lambda r: (order.get(r.source, 99), r.record)):
        ident = _resolve_one(rec, names, repos, known, curated)
        if ident.minted:
            result.labels[ident.model] = rec.name
            known.add(ident.model)
        if ident.variant_of:
            parents.append((rec, ident.variant_of))
        names.setdefault(normalise(rec.name), set()).add(ident.model)
        for repo in rec.hf_repos:
            repos.setdefault(repo.lower(), set()).add((ident.model, rec.source))
        result.add(ident)
    # A curated family may come from a source this build has not imported (MOT's Llama 3
    # releases are variants of EOSAI's Llama 3): the record then stands alone, unmatched and so
    # reported by `kg import`, with the reason in its basis; nothing is guessed.
    for rec, parent in parents:
        if parent not in known:
            alone = replace(
                result.of(rec.source, rec.record),
                variant_of="",
                variant=None,
                basis=f"its curated family '{parent}' is not in this build "
                f"(import the source that names it; {CURATION_FILE})",
            )
            result.add(alone)
    result.finish(set(paper))
    return result


def _resolve_one(
    rec: Record,
    names: dict[str, set[str]],
    repos: dict[str, set[tuple[str, str]]],
    known: set[str],
    curated: dict[tuple[str, str], Curated],
) -> Identity:
    variant = parse_variant(rec.name)

    def ident(model: str, variant_of: str, basis: str, matched: bool = True) -> Identity:
        return Identity(
            rec.source,
            rec.record,
            rec.name,
            model,
            variant_of,
            variant if variant_of else None,
            basis,
            matched,
            model not in known,
        )

    cur = curated.get((rec.source, rec.record))
    if cur is not None:
        return ident(cur.model, cur.variant_of, f"curated: {cur.basis}")
    same = names.get(normalise(rec.name), set())
    if len(same) == 1:
        return ident(next(iter(same)), "", f"same normalised name '{normalise(rec.name)}'")
    # only another source's link counts: one source repeating a link is no evidence
    hf = {m for r in rec.hf_repos for m, src in repos.get(r.lower(), set()) if src != rec.source}
    if len(same) == 0 and len(hf) == 1:
        repo = ", ".join(rec.hf_repos)
        return ident(next(iter(hf)), "", f"same Hugging Face repository {repo}")
    if variant is not None and len(same) == 0:
        family = names.get(normalise(variant.family), set())
        if len(family) == 1:
            fam = next(iter(family))
            mid = _fresh(slug(rec.name), known, rec.source)
            return ident(mid, fam, f"a variant of '{variant.family}' by name")
    mid = _fresh(slug(rec.name), known, rec.source)
    why = "several models have this name" if len(same) > 1 else "no other source names it"
    return ident(mid, "", f"unmatched: {why}", matched=False)


def _fresh(candidate: str, known: set[str], source: str) -> str:
    """A new model id; suffixed with the source when the name's slug is taken by another model
    (which then has a different normalised name, so it is not the same model)."""
    return candidate if candidate not in known else f"{candidate}-{source}"
