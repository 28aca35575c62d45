"""Editor features (filled in below)."""

from __future__ import annotations


def register(server) -> None:
    """Add this module's handlers to the server."""
