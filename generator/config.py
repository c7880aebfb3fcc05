"""Network settings from the environment: API keys, contact e-mail and base URLs.

Variables (issue 3, DESIGN §8):

* ``OPENALEX_API_KEY`` — sent as OpenAlex's ``api_key`` query parameter (required for
  real use since February 2026, https://docs.openalex.org/how-to-use-the-api/rate-limits-and-authentication);
* ``S2_API_KEY`` (or ``SEMANTIC_SCHOLAR_API_KEY``) — sent as Semantic Scholar's
  ``x-api-key`` header (https://www.semanticscholar.org/product/api);
* ``LITSYNTH_MAILTO`` — the contact e-mail sent as ``mailto`` to Crossref (polite pool,
  https://www.crossref.org/documentation/retrieve-metadata/rest-api/access-and-authentication/)
  and OpenAlex;
* ``LITSYNTH_ARXIV_URL``, ``LITSYNTH_OPENALEX_URL``, ``LITSYNTH_CROSSREF_URL``,
  ``LITSYNTH_S2_URL``, ``LITSYNTH_EUROPEPMC_URL`` — base-URL overrides for mirrors,
  proxies and replay servers.

Secrets are kept out of ``repr``/``str`` so a logged or printed ``Settings`` never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.errors import RetrievalError

DEFAULT_BASE_URLS: dict[str, str] = {
    "arxiv": "https://export.arxiv.org/api",
    "openalex": "https://api.openalex.org",
    "crossref": "https://api.crossref.org",
    "semantic_scholar": "https://api.semanticscholar.org/graph/v1",
    "europepmc": "https://www.ebi.ac.uk/europepmc/webservices/rest",
}

BASE_URL_VARIABLES: dict[str, str] = {
    "arxiv": "LITSYNTH_ARXIV_URL",
    "openalex": "LITSYNTH_OPENALEX_URL",
    "crossref": "LITSYNTH_CROSSREF_URL",
    "semantic_scholar": "LITSYNTH_S2_URL",
    "europepmc": "LITSYNTH_EUROPEPMC_URL",
}


def _value(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class Settings:
    """Keys, contact e-mail and per-provider base URLs (no trailing slash).

    ``base_urls`` maps provider module name (``arxiv``, ``openalex``, ``crossref``,
    ``semantic_scholar``, ``europepmc``) to its base URL. Any secret may be ``None``.
    """

    openalex_api_key: str | None = field(default=None, repr=False)
    s2_api_key: str | None = field(default=None, repr=False)
    mailto: str | None = field(default=None, repr=False)
    base_urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read settings from ``environ`` (default ``os.environ``).

        Empty values count as unset. Raises :class:`~generator.errors.RetrievalError`
        when a base-URL variable is set to something that is not an ``http(s)://`` URL.
        """
        env = os.environ if environ is None else environ
        urls = dict(DEFAULT_BASE_URLS)
        for provider, variable in BASE_URL_VARIABLES.items():
            override = _value(env, variable)
            if override is None:
                continue
            if not override.lower().startswith(("http://", "https://")):
                raise RetrievalError(f"{variable} must be an http:// or https:// URL")
            urls[provider] = override
        return cls(
            openalex_api_key=_value(env, "OPENALEX_API_KEY"),
            s2_api_key=_value(env, "S2_API_KEY", "SEMANTIC_SCHOLAR_API_KEY"),
            mailto=_value(env, "LITSYNTH_MAILTO"),
            base_urls={k: v.rstrip("/") for k, v in urls.items()},
        )

    def base_url(self, provider: str) -> str:
        """The base URL of ``provider`` without trailing slash (default if not configured)."""
        return (self.base_urls.get(provider) or DEFAULT_BASE_URLS[provider]).rstrip("/")

    def secrets(self) -> tuple[str, ...]:
        """The secret values that are set (keys and e-mail), for redaction."""
        return tuple(s for s in (self.openalex_api_key, self.s2_api_key, self.mailto) if s)

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "<set>" if value else "None"

        return (f"Settings(openalex_api_key={shown(self.openalex_api_key)}, "
                f"s2_api_key={shown(self.s2_api_key)}, mailto={shown(self.mailto)}, "
                f"base_urls={self.base_urls!r})")

    __str__ = __repr__
