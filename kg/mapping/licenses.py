"""The license knowledge base and its aliases -> quads, each in its own curation graph.

`{base}graph/curation/licenses`: per license its identifier, version, basis, the paper's five
criteria (a gao:PermissionAnswer each, with gao:answerValue and gao:clause) and the further
facts. `{base}graph/curation/license-aliases`: one gao:LicenseAlias per string met in a source.
License identities (type, label, notation, URL) stay in `{base}graph/curation`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from kg.sources.licenses import CRITERIA, STATUSES, Alias, License, license_keys, normalise
from kg.vocab.namespaces import DCTERMS, RDF, RDFS, XSD, Base, gao

A = NamedNode(RDF + "type")
LABEL = NamedNode(RDFS + "label")
TITLE = NamedNode(DCTERMS + "title")

# criterion notation (CSV column) -> local name of the gao:PermissionCriterion
CRITERION = {
    "research": "research-use",
    "commercial": "commercial-use",
    "modify": "modify-as-desired",
    "copyright_derivative": "copyright-derivative-work",
    "other_license_derivative": "other-license-derivative-work",
}
# further fact (CSV column) -> object property whose value is a gao:answer-values concept
FACT_PROPERTY = {
    "use_restrictions": "useRestrictions",
    "non_commercial": "nonCommercial",
    "share_alike": "shareAlike",
    "attribution": "attributionRequired",
    "derivatives_keep_license": "derivativesKeepLicense",
}
assert set(CRITERION) == set(CRITERIA)


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD + "integer"))


def alias_iri(base: Base, text: str) -> NamedNode:
    """A stable IRI per alias: a readable slug plus a hash of the matching key."""
    key = normalise(text)
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")[:60].strip("-") or "alias"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return base.iri("license-alias", f"{slug}-{digest}")


def license_quads(base: Base, licenses: Iterable[License], aliases: Iterable[Alias]) -> list[Quad]:
    kb = base.graph("curation", "licenses")
    al = base.graph("curation", "license-aliases")
    meta = base.graph("metadata")
    quads: list[Quad] = []

    def add(g: NamedNode, s: NamedNode, p: NamedNode | str, o: NamedNode | Literal) -> None:
        quads.append(Quad(s, p if isinstance(p, NamedNode) else NamedNode(p), o, g))

    for lic in licenses:
        s = base.iri("license", lic.id)
        add(kb, s, gao("basis"), Literal(lic.basis))
        if lic.identifier:
            add(kb, s, DCTERMS + "identifier", Literal(lic.identifier))
        if lic.version:
            add(kb, s, gao("licenseVersion"), Literal(lic.version))
        if lic.licenseref and lic.licenseref.startswith("LicenseRef-scancode-"):
            add(
                kb,
                s,
                gao("scancodeKey"),
                Literal(lic.licenseref.removeprefix("LicenseRef-scancode-")),
            )
        for crit, answer in lic.criteria.items():
            local = CRITERION[crit]
            ans = NamedNode(f"{s.value}/terms/{local}")
            add(kb, s, gao("hasTermAnswer"), ans)
            add(kb, ans, A, gao("LicenseTermAnswer"))
            add(kb, ans, gao("criterion"), gao(local))
            add(
                kb,
                ans,
                gao("granted"),
                Literal(str(answer.granted).lower(), datatype=NamedNode(XSD + "boolean")),
            )
            add(kb, ans, gao("answerValue"), gao(answer.value))
            add(kb, ans, gao("clause"), Literal(answer.clause))
            add(kb, ans, gao("curatedRecord"), Literal(lic.record))
        for fact, value in lic.facts.items():
            add(kb, s, gao(FACT_PROPERTY[fact]), gao(value))
        if lic.user_threshold:
            add(kb, s, gao("userThreshold"), _int(lic.user_threshold))
        if lic.revenue_threshold:
            add(kb, s, gao("revenueThreshold"), _int(lic.revenue_threshold))
        if lic.terms_clause:
            add(kb, s, gao("termsClause"), Literal(lic.terms_clause))
        # the keys a license string met in a source resolves by (rule 62), as the resolver's
        for key in sorted(license_keys(lic)):
            add(al, s, gao("aliasKey"), Literal(key))

    for a in aliases:
        s = alias_iri(base, a.text)
        add(al, s, A, gao("LicenseAlias"))
        add(al, s, LABEL, Literal(a.text.strip(), language="en"))
        add(al, s, gao("aliasText"), Literal(a.text))
        add(al, s, gao("aliasKey"), Literal(normalise(a.text)))
        for lid in a.licenses:
            add(al, s, gao("resolvesTo"), base.iri("license", lid))
        if a.status:
            add(al, s, gao("licenseStatus"), gao(STATUSES[a.status]))
        add(al, s, gao("basis"), Literal(a.basis))
        add(al, s, gao("curatedRecord"), Literal(a.record))

    for graph, title in (
        (
            kb,
            "The license knowledge base: identifiers, versions, the paper's five criteria with "
            "the clause each answer rests on, and further facts (curation/licenses.csv)",
        ),
        (
            al,
            "License strings met in sources and the license records or statuses they resolve "
            "to (curation/license-aliases.csv)",
        ),
    ):
        add(meta, graph, A, gao("StatementGraph"))
        add(meta, graph, TITLE, Literal(title, language="en"))
        add(meta, graph, DCTERMS + "creator", Literal("GenAI Openness Knowledge Graph curators"))
    return quads
