"""The store: its interface, its back-ends and the query library."""

from kg.store.oxigraph import GraphStore, OxigraphStore, SelectResult

__all__ = ["GraphStore", "OxigraphStore", "SelectResult"]
