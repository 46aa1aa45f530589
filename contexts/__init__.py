"""Pinned JSON-LD contexts and the offline document loader (no network, ever)."""
