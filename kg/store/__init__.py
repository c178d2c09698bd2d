"""The store: its interface, its back-ends and the query library."""

from kg.store.base import GraphStore, SelectResult
from kg.store.oxigraph import OxigraphStore

__all__ = ["GraphStore", "OxigraphStore", "SelectResult"]
