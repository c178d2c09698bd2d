"""The choices and defaults of `kg publish --to` (a module of their own: the command line offers
them without importing the HTTP client)."""

from __future__ import annotations

METHODS = ("gsp", "update")
CHUNK_TRIPLES = 5000  # triples per INSERT DATA request (method "update")
LOCK_EXPIRY = 3600.0  # seconds after which a push lock is taken as left by a crashed push
