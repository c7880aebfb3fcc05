"""The build's clock: the current UTC time, or ``SOURCE_DATE_EPOCH`` when it is set, so that
a rebuild with the same inputs writes the same timestamps (reproducible-builds.org spec)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

__all__ = ["now_iso"]


def now_iso() -> str:
    """ISO 8601 UTC time to the second (``2026-12-04T16:00:00+00:00``): the time given by
    ``SOURCE_DATE_EPOCH`` (seconds since 1970) when it is a whole number, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return when.replace(microsecond=0).isoformat()
