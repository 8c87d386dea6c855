"""Watch terms: validation, storage and the bundled defaults (the matcher is `monitor.ingest.screen`)."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from monitor.errors import DuplicateError, InputError, NotFoundError
from monitor.storage.models import WatchTerm
from monitor.text.fold import fold

DEFAULT_WATCH_TERMS = Path(__file__).parent / "defaults" / "watch_terms.toml"
MAX_TERM_LENGTH = 100
MAX_ALIASES = 50


def clean_term(raw: str, *, what: str = "watch term") -> str:
    """Trim and validate one term or alias; raise InputError saying what is wrong."""
    term = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not term or term == "*":
        raise InputError(f"{what} is empty")
    if len(term) > MAX_TERM_LENGTH:
        raise InputError(f"{what} is {len(term)} characters long; the limit is {MAX_TERM_LENGTH}")
    if any(unicodedata.category(char) == "Cc" for char in term):
        raise InputError(f"{what} {term[:40]!r} contains control characters")
    if "*" in term[:-1]:
        raise InputError(f"{what} {term!r}: '*' is allowed only at the end (prefix match)")
    if not any(char.isalnum() for char in term):
        raise InputError(f"{what} {term!r} has no letters or digits")
    return term


def _clean_aliases(term: str, aliases: Iterable[str]) -> list[str]:
    seen = {fold(term)}
    cleaned: list[str] = []
    for raw in aliases:
        alias = clean_term(raw, what=f"alias of {term!r}")
        if fold(alias) not in seen:
            seen.add(fold(alias))
            cleaned.append(alias)
    if len(cleaned) > MAX_ALIASES:
        raise InputError(f"{term!r} has {len(cleaned)} aliases; the limit is {MAX_ALIASES}")
    return cleaned


def add_watch_term(session: Session, *, term: str, aliases: Sequence[str] = ()) -> WatchTerm:
    """Add a term with its aliases; raise DuplicateError if the folded term exists."""
    term = clean_term(term)
    key = fold(term)
    if session.exec(select(WatchTerm).where(WatchTerm.term_key == key)).first():
        raise DuplicateError(
            f"watch term {term!r} exists already: add spellings with `monitor watch edit {term!r} --add-alias A`"
        )
    row = WatchTerm(term=term, term_key=key, aliases=_clean_aliases(term, aliases))
    session.add(row)
    session.flush()
    return row


def update_watch_term(
    session: Session, *, term: str, aliases: Sequence[str] | None = None, enabled: bool | None = None
) -> WatchTerm:
    row = get_watch_term(session, term=term)
    if aliases is not None:
        row.aliases = _clean_aliases(row.term, aliases)
    if enabled is not None:
        row.enabled = enabled
    session.add(row)
    session.flush()
    return row


def edit_watch_aliases(
    session: Session, *, term: str, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> WatchTerm:
    """Add and remove aliases of `term` (matched case- and diacritic-blind); raise NotFoundError for an
    unknown term or an alias to remove that it does not have."""
    row = get_watch_term(session, term=term)
    unknown = [alias for alias in remove if fold(" ".join(alias.split())) not in {fold(a) for a in row.aliases}]
    if unknown:
        raise NotFoundError(
            f"{row.term!r} has no alias {unknown[0]!r} (its aliases: {', '.join(row.aliases) or 'none'})"
        )
    dropped = {fold(" ".join(alias.split())) for alias in remove}
    kept = [alias for alias in row.aliases if fold(alias) not in dropped]
    return update_watch_term(session, term=row.term, aliases=[*kept, *add])


def get_watch_term(session: Session, *, term: str) -> WatchTerm:
    key = fold(" ".join(term.split()))
    row = session.exec(select(WatchTerm).where(WatchTerm.term_key == key)).first()
    if row is None:
        raise NotFoundError(f"no watch term {term!r} (see `monitor watch list`)")
    return row


def remove_watch_term(session: Session, *, term: str) -> WatchTerm:
    row = get_watch_term(session, term=term)
    session.delete(row)
    session.flush()
    return row


def list_watch_terms(session: Session) -> list[WatchTerm]:
    return list(session.exec(select(WatchTerm).order_by(col(WatchTerm.id))))


@dataclass(frozen=True)
class DefaultTerm:
    term: str
    aliases: tuple[str, ...]


def read_default_terms(path: Path = DEFAULT_WATCH_TERMS) -> list[DefaultTerm]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return [DefaultTerm(entry["term"], tuple(entry.get("aliases", ()))) for entry in data.get("term", [])]


def install_default_watch_terms(session: Session, path: Path = DEFAULT_WATCH_TERMS) -> int:
    """Add the bundled terms that are missing; return how many were added."""
    existing = {row.term_key for row in list_watch_terms(session)}
    added = 0
    for entry in read_default_terms(path):
        if fold(entry.term) not in existing:
            add_watch_term(session, term=entry.term, aliases=entry.aliases)
            added += 1
    return added
