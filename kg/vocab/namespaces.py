"""IRIs: the ontology namespace (fixed) and the instance base (configurable)."""

from __future__ import annotations

import re

from pyoxigraph import NamedNode

GAO = "https://w3id.org/genai-openness/ontology#"
ONTOLOGY_IRI = "https://w3id.org/genai-openness/ontology"
DEFAULT_BASE = "https://w3id.org/genai-openness/"
PAPER_IRI = "https://arxiv.org/abs/2404.17047"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
ODRL = "http://www.w3.org/ns/odrl/2/"
VANN = "http://purl.org/vocab/vann/"

PREFIXES: dict[str, str] = {
    "gao": GAO,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "schema": SCHEMA,
    "odrl": ODRL,
    "vann": VANN,
}


def gao(local: str) -> NamedNode:
    return NamedNode(GAO + local)


class Base:
    """Mints instance IRIs under one configurable base: `{base}{kind}/{slug}`."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        if not base.endswith(("/", "#")):
            base += "/"
        try:
            NamedNode(base)
        except ValueError as exc:
            from kg.errors import KgError

            raise KgError(f"the base IRI '{base}' is not a valid IRI ({exc})") from None
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", base):
            from kg.errors import KgError

            raise KgError(f"the base IRI '{base}' must be absolute, for example https://…/")
        self.base = base

    def iri(self, *parts: str) -> NamedNode:
        return NamedNode(self.base + "/".join(parts))

    def graph(self, *parts: str) -> NamedNode:
        return self.iri("graph", *parts)

    def prefixes(self, *, with_base: bool = True) -> dict[str, str]:
        """Prefixes for this base. `kg:` (the base itself) suits typing IRIs in parameters;
        dumps leave it out, since local names with '/' would need escaping in Turtle."""
        kinds = {k: f"{self.base}{k}/" for k in ("model", "license", "organisation")}
        return {**PREFIXES, **kinds, **({"kg": self.base} if with_base else {})}
