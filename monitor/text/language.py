"""Which language a text is in, as far as its letters tell: English (Latin script), Russian, Ukrainian or
Belarusian (Cyrillic). The languages this beat's coverage is written in; anything else is reported as the
page declares it.

One function for the crawler (an article's language, when the page does not declare one or declares one
its text contradicts) and for the matcher (which encoders can read a claim)."""

from __future__ import annotations

import re

_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
_LATIN_LETTER = re.compile(r"[a-zA-Z]")
# Letters that only one of the three Cyrillic-script languages of this beat writes.
_UKRAINIAN_ONLY = frozenset("їєґЇЄҐ")
_BELARUSIAN_ONLY = frozenset("ўЎ")
_RUSSIAN_NOT_UKRAINIAN = frozenset("ыэъёЫЭЪЁ")
CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"})


def is_cyrillic(text: str) -> bool:
    """Whether a text is written mostly in Cyrillic script (Russian, Ukrainian, Belarusian...)."""
    cyrillic = len(_CYRILLIC_LETTER.findall(text))
    return cyrillic > 0 and cyrillic >= len(_LATIN_LETTER.findall(text))


def language_of_text(text: str) -> str | None:
    """ "en" for Latin script; "be", "uk" or "ru" for Cyrillic, by the letters only one of them writes
    ("ru" when none is seen); None for a text with no letters of either."""
    sample = text[:5000]
    if not _CYRILLIC_LETTER.search(sample) and not _LATIN_LETTER.search(sample):
        return None
    if not is_cyrillic(sample):
        return "en"
    letters = set(sample)
    if letters & _BELARUSIAN_ONLY:
        return "be"
    if letters & _UKRAINIAN_ONLY:
        return "uk"
    if "і" in letters or "І" in letters:
        # Ukrainian and Belarusian both write і; Belarusian also writes ы and э, Ukrainian never does.
        return "be" if letters & _RUSSIAN_NOT_UKRAINIAN else "uk"
    return "ru"


def article_language(declared: str | None, text: str) -> str | None:
    """An article's language: the page's declaration, unless its text is in another script (a Russian
    story in a template that says lang="en"), then what the text's letters tell."""
    detected = language_of_text(text)
    if declared is None or detected is None:
        return declared or detected
    if (declared in CYRILLIC_LANGUAGES) != (detected != "en"):
        return detected
    if declared in {"ru", "uk", "be"} and detected in {"uk", "be"} and declared != detected:
        return detected  # "ru" declared by a CMS default, the text's own letters say otherwise
    return declared
