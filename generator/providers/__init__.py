"""Record sources. Each provider has ``name``, ``search(queries, since, max_records)`` and
``lookup(identity_key)`` and returns :class:`generator.models.Record` objects.

``library`` reads local corpora; the network providers live one per module and are built
by :func:`network_provider`.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from generator.models import Record

NETWORK_PROVIDERS = ("arxiv", "openalex", "crossref", "semantic_scholar", "europepmc")
LIBRARY = "library"
ALL_PROVIDERS = NETWORK_PROVIDERS + (LIBRARY,)


class Provider(Protocol):
    """What retrieval needs of a source."""

    name: str

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Records matching any query, best first, at most ``max_records``, year >= ``since``."""

    def lookup(self, key: str) -> Record | None:
        """The record with identity key ``key`` (``arxiv:…``, ``doi:…``), or ``None``."""


def network_provider(name: str, client, settings) -> Provider:
    """Build the network provider ``name`` (one of :data:`NETWORK_PROVIDERS`).

    ``client`` is a :class:`generator.http.HttpClient`; ``settings`` a
    :class:`generator.config.Settings`. Raises ``KeyError`` for an unknown name.
    """
    if name not in NETWORK_PROVIDERS:
        raise KeyError(name)
    module = importlib.import_module(f"generator.providers.{name}")
    return module.Provider(client, settings)
