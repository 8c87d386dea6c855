"""A reviewer's verdict on a match: confirmed, dismissed (it leaves the digest and is not alerted again), or
back to unreviewed."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlmodel import Session

from monitor.errors import InputError, NotFoundError
from monitor.storage.models import Match, ReviewStatus

MAX_NOTE_LENGTH = 2000


def clean_note(raw: str | None) -> str | None:
    """The note trimmed, without control characters other than line breaks; None when empty."""
    if raw is None:
        return None
    kept = "".join(char for char in raw if char in "\n\t" or unicodedata.category(char) != "Cc").strip()
    if len(kept) > MAX_NOTE_LENGTH:
        raise InputError(f"the note is {len(kept)} characters long; the limit is {MAX_NOTE_LENGTH}")
    return kept or None


def review_match(session: Session, *, match_id: int, status: str, note: str | None, now: datetime) -> Match:
    """Record the review of `match_id`; raise NotFoundError or InputError (unknown status, note too long)."""
    try:
        review_status = ReviewStatus(status)
    except ValueError:
        choices = ", ".join(choice.value for choice in ReviewStatus)
        raise InputError(f"review status {status!r} is not one of {choices}") from None
    match = session.get(Match, match_id)
    if match is None:
        raise NotFoundError(f"no match with id {match_id}")
    match.review_status = review_status
    match.review_note = clean_note(note)
    match.reviewed_at = None if review_status == ReviewStatus.unreviewed else now
    session.add(match)
    session.flush()
    return match
