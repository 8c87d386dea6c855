"""The watch-term screen: which watch terms a text holds, and a cheaper necessary test on a page's raw
HTML, so a page that cannot be on topic is never extracted."""

from __future__ import annotations

import functools
import html as htmllib
import re
import unicodedata
from collections.abc import Iterable, Sequence

from monitor.storage.models import WatchTerm
from monitor.text.fold import fold


class WatchTermMatcher:
    """Finds which watch terms occur in a text: whole words, any alias, case- and diacritic-insensitive."""

    def __init__(self, terms: Iterable[tuple[str, Sequence[str]]]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for term, aliases in terms:
            alternatives = [self._alternative(spelling) for spelling in (term, *aliases)]
            pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")", re.UNICODE)
            self._patterns.append((term, pattern))

    @staticmethod
    def _alternative(spelling: str) -> str:
        if spelling.endswith("*"):
            return re.escape(fold(spelling[:-1])) + r"\w*"
        # Words joined by any run of spaces or hyphens: "Union State", "S-400" vs "S 400".
        parts = [re.escape(part) for part in re.split(r"[\s]+", fold(spelling))]
        return r"\s+".join(parts) + r"(?!\w)"

    @classmethod
    def from_rows(cls, rows: Iterable[WatchTerm]) -> WatchTermMatcher:
        return cls((row.term, row.aliases) for row in rows if row.enabled)

    def matches(self, text: str) -> list[str]:
        """The terms found in `text`, in the order they were given."""
        folded = fold(text)
        return [term for term, pattern in self._patterns if pattern.search(folded)]


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


@functools.cache
def _loose_fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char).casefold())
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def _loose_fold(text: str) -> str:
    """`fold`, coarser: every combining mark is dropped (Cyrillic й, ё, ї, ў too), character by character.

    Whatever `fold(text)` contains, `_loose_fold(text)` contains loosely folded, so a word missing from the
    loose fold of a page is missing from its `fold` as well. Only the distinct non-ASCII characters of the
    text are looked at one by one; the rest is C string methods (a 40 KB page takes a few milliseconds).
    """
    folded = text.casefold()
    if folded.isascii():
        return folded
    characters = set().union(*_NON_ASCII_RE.findall(folded))
    changed = {ord(char): loose for char in characters if (loose := _loose_fold_char(char)) != char}
    return folded.translate(changed) if changed else folded


# A tag, comment or declaration: "<" then a letter, "/", "!" or "?", as HTML parsers read them; a bare "<"
# in text ("profits < 5%") starts none, so no text is cut away with the markup.
_TAG_RE = re.compile(r"<[A-Za-z/!?][^<>]*>")


_JSON_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _page_text_loosely(html: str) -> str:
    """The characters of a page's text as an extractor could put them together: tags removed (a word may
    be split by one, "<b>B</b>elarus"), then entities and JSON string escapes (JSON-LD headlines) decoded."""
    text = htmllib.unescape(_TAG_RE.sub("", html))
    return _JSON_ESCAPE_RE.sub(lambda match: chr(int(match.group(1), 16)), text)


class WatchTermScreen:
    """A necessary condition for `WatchTermMatcher.matches` on a page's extracted text, tested on its raw
    HTML: some word of some watch term's spelling occurs in it, anywhere, in any case or accent.

    Extraction only keeps, drops and re-spaces what the page has, so a page without any such word cannot
    be on topic and need not be extracted. The test is loose on purpose (any one word of a spelling, no
    word boundaries, every accent dropped): it may pass a page the matcher rejects later, never the reverse.
    """

    def __init__(self, terms: Iterable[tuple[str, Sequence[str]]]) -> None:
        needles: set[str] = set()
        for term, aliases in terms:
            for spelling in (term, *aliases):
                words = _loose_fold(fold(spelling.rstrip("*"))).split()
                # One word is enough to be necessary; the longest is the rarest in pages.
                needles.add(max(words, key=len) if words else "")
        # A needle containing another is found whenever that one is: only the shortest are searched for.
        kept: list[str] = []
        for needle in sorted(needles, key=len):
            if not any(shorter in needle for shorter in kept):
                kept.append(needle)
        self._needles = tuple(kept)

    def may_match(self, html: str, *texts: str | None) -> bool:
        """Whether the page (its HTML and `texts` that will join its text, such as a feed's title) may
        contain a watch term."""
        extra = "\n".join(text for text in texts if text)
        # Most on-topic pages have a term as written in the markup: a plain case-folded pass finds it.
        if self._contains_needle(f"{html}\n{extra}".casefold()):
            return True
        return self._contains_needle(_loose_fold(f"{_page_text_loosely(html)}\n{extra}"))

    def _contains_needle(self, haystack: str) -> bool:
        return any(needle in haystack for needle in self._needles)
