"""What every network provider shares: its client, settings, clock and base URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from generator.config import Settings
from generator.http import HttpClient
from generator.normalise import utc_now


class NetworkProvider:
    """Base of the network providers.

    Subclasses set ``name`` (the provider name, as in ``Settings.base_urls``) and, where
    every request goes to one endpoint, ``path`` (appended to the base URL as ``url``).
    ``now`` returns the retrieval time as an aware ``datetime`` (tests inject it).
    """

    name = ""
    path = ""

    def __init__(self, client: HttpClient, settings: Settings, *, now: Callable[[], datetime] | None = None):
        self.client = client
        self.settings = settings
        self.now = now or utc_now
        self.base = settings.base_url(self.name)
        self.url = self.base + self.path
