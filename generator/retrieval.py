"""Run a question's providers and assemble its :class:`~generator.models.Snapshot`.

The providers do the I/O; this module only calls them, records per-provider counts and
errors (a failing provider never stops the others), and resolves ``include:``
identifiers by lookup. Records are kept as the providers returned them: duplicates are
removed later, by screening, so the PRISMA flow can count them.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from generator import __version__
from generator.errors import RetrievalError
from generator.models import Question, Record, Snapshot
from generator.normalise import iso_utc
from generator.providers import LIBRARY, Provider
from generator.records import identity_keys
from generator.snapshots import search_digest

log = logging.getLogger(__name__)


def retrieve(question: Question, providers: list[Provider], *, now: str) -> Snapshot:
    """Search every provider for ``question`` and look up its ``include:`` identifiers.

    ``providers`` are already-built provider objects (see :mod:`generator.providers`);
    ``now`` is the ISO 8601 UTC retrieval time written into the snapshot. A provider that
    raises :class:`~generator.errors.RetrievalError` is recorded in
    ``provider_errors`` with its message and 0 records. Raises ``RetrievalError`` only when
    every provider failed (there is nothing to snapshot).
    """
    records: list[Record] = []
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for provider in providers:
        try:
            found = provider.search(question.queries, question.since, question.max_records)
        except RetrievalError as exc:
            log.warning("%s: %s", question.slug, exc)
            errors[provider.name] = str(exc)
            found = []
        counts[provider.name] = len(found)
        records.extend(found)

    known = {key for rec in records for key in identity_keys(rec)}
    unresolved: list[str] = []
    for key in question.include:
        if key in known:
            continue
        hit = _lookup(key, providers, errors)
        if hit is None:
            unresolved.append(key)
            continue
        records.append(hit)
        counts[hit.provider] = counts.get(hit.provider, 0) + 1
        known.update(identity_keys(hit))

    # A local corpus has no retrieval time of its own: its records were read now. (Its file's
    # mtime is not one: git sets it at checkout, so two clones of the same bytes would
    # write different snapshots.) ``now`` honours SOURCE_DATE_EPOCH (generator.clock).
    stamp = iso_utc(datetime.fromisoformat(now))
    records = [r if r.retrieved_at else dataclasses.replace(r, retrieved_at=stamp) for r in records]
    if providers and len(errors) == len(providers) and not records:
        # The way out of a network failure; not of local files that hold nothing.
        hint = ("" if set(errors) == {LIBRARY} else
                " Without network access, build from local corpora: "
                "litsynth build --offline --library PATH (make site OFFLINE=1 LIBRARY=\"PATH ...\")")
        raise RetrievalError("every provider failed (" + "; ".join(msg for msg in errors.values()) + ")." + hint)
    names = tuple(p.name for p in providers)
    return Snapshot(
        slug=question.slug,
        queries=question.queries,
        providers=names,
        since=question.since,
        max_records=question.max_records,
        records=tuple(records),
        provider_counts=counts,
        provider_errors=errors,
        retrieved_at=now,
        litsynth_version=__version__,
        query_digest=search_digest(question, names),
        unresolved_includes=tuple(unresolved),
    )


def _lookup(key: str, providers: list[Provider], errors: dict[str, str]) -> Record | None:
    for provider in providers:
        if provider.name in errors:
            continue
        try:
            hit = provider.lookup(key)
        except RetrievalError as exc:
            log.warning("lookup %s via %s failed: %s", key, provider.name, exc)
            continue
        if hit is not None:
            return hit
    return None
