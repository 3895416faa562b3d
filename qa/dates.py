"""Date checks shared by the corpus loader and the app: a leaf module (standard library only)."""

from __future__ import annotations

import re
from datetime import date

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_iso_date(text: str) -> bool:
    """Whether ``text`` is exactly a real calendar date written ``YYYY-MM-DD``.

    The one date check: metadata dates and the app's date filters are compared as strings,
    so only this form may reach them.
    """
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
