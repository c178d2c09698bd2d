"""The GenAI openness knowledge graph: curated sources -> RDF -> embedded store -> queries."""

__version__ = "0.1.0"
