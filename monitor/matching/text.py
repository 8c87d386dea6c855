"""Low-level text folding, word splitting and stemming shared by the lexicon and the normaliser."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from monitor.text.language import is_cyrillic, language_of_text

__all__ = ["fold_text", "is_cyrillic", "script_language", "stem", "word_tokens"]

# Letters whose diacritic makes a different letter in Cyrillic; folding them would merge distinct words.
# (Belarusian ў is folded to у: the language writes one or the other at a word's start by the word
# before it, "удзел" / "ўдзел", so keeping it apart would split one word in two.)
_KEEP_MARKS = frozenset("йёїЙЁЇ")

_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u200b": "",
        "\u00ad": "",
    }
)
# Contractions that carry a negation: spelled out so "doesn't" and "does not" look alike.
_CONTRACTIONS = [
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"n't\b"), " not"),
]
# "S-400", "Tu-22M3", "MiG-31K": a short letter prefix joined to digits is one designation.
_DESIGNATION = re.compile(r"\b([a-zа-яёіїєґў]{1,3})-(?=\d)")
# Addresses and social-media handles name no part of a claim ("pic.twitter.com/x", "@user").
_ADDRESS = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*|(?<!\w)@\w+")
# Reference marks copied from encyclopedias ("join the unit.[14]") are no figures of the claim.
_CITATION = re.compile(r"\[(?:\d{1,3}|citation needed|note \d+)\]")
_WORD = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.UNICODE)

_ENGLISH = snowballstemmer.stemmer("english")
_RUSSIAN = snowballstemmer.stemmer("russian")


def _strip_marks(text: str) -> str:
    out: list[str] = []
    for char in text:
        if char.isascii() or char in _KEEP_MARKS:
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return unicodedata.normalize("NFC", "".join(out))


def fold_text(text: str) -> str:
    """Fold text for comparison: NFKC, plain quotes and dashes, plain spaces, case, Latin diacritics.

    Negated contractions are spelled out ("doesn't" -> "does not"), weapon designations joined
    ("S-400" -> "s400"), web addresses, @handles and reference marks ("[14]") dropped. Whitespace is
    collapsed.
    """
    text = text.translate(_PUNCTUATION)
    if "[" in text:
        text = _CITATION.sub(" ", text)
    if "/" in text or "@" in text or "www." in text:
        text = _ADDRESS.sub(" ", text)
    if not text.isascii():
        text = _strip_marks(unicodedata.normalize("NFKC", text).translate(_PUNCTUATION))
    text = text.casefold()
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    text = _DESIGNATION.sub(r"\1", text)
    return " ".join(text.split())


def word_tokens(folded: str) -> list[str]:
    """The words of folded text; numbers keep their separators ("12,000", "10.5")."""
    return _WORD.findall(folded)


# English irregular past forms, as their present (Snowball stems "flew" as "flew", "fly" as "fli"): the
# verbs news about a war and its diplomacy tells in the past ("Putin flew to Minsk", "drills began").
_IRREGULAR_PAST = {
    "flew": "fly",
    "flown": "fly",
    "began": "begin",
    "begun": "begin",
    "took": "take",
    "taken": "take",
    "held": "hold",
    "met": "meet",
    "led": "lead",
    "came": "come",
    "went": "go",
    "gone": "go",
    "gave": "give",
    "given": "give",
    "made": "make",
    "fought": "fight",
    "brought": "bring",
    "struck": "strike",
    "fallen": "fall",
    "fell": "fall",
    "rose": "rise",
    "risen": "rise",
    "grew": "grow",
    "grown": "grow",
    "shrank": "shrink",
    "shrunk": "shrink",
    "drew": "draw",
    "drawn": "draw",
    "became": "become",
    "chose": "choose",
    "chosen": "choose",
    "kept": "keep",
    "lost": "lose",
    "sought": "seek",
    "spoke": "speak",
    "spoken": "speak",
    "wrote": "write",
    "written": "write",
    "broke": "break",
    "broken": "break",
    "knew": "know",
    "known": "know",
    "seen": "see",
    "thought": "think",
    "understood": "understand",
    "stood": "stand",
    "ran": "run",
    "hid": "hide",
    "hidden": "hide",
    "froze": "freeze",
    "frozen": "freeze",
    "undertook": "undertake",
    "overtook": "overtake",
}


# Words whose Snowball stem is that of an unrelated word: kept whole, so that they match only themselves
# ("in the direction of Kyiv" places an assault; "directly involved" says how Belarus takes part; a
# residential building is no construction).
_KEPT_WHOLE = {
    "direction": "direction",
    "directions": "direction",
    "building": "building",
    "buildings": "building",
}


@lru_cache(maxsize=262_144)
def stem(word: str) -> str:
    """The stem of one folded word (English or Russian Snowball by script); numbers lose separators."""
    if word[:1].isdigit():
        return word.replace(",", "")
    if word in _KEPT_WHOLE:
        return _KEPT_WHOLE[word]
    if word.isascii():
        return str(_ENGLISH.stemWord(_IRREGULAR_PAST.get(word, word)))
    if any("\u0400" <= char <= "\u04ff" for char in word):
        return str(_RUSSIAN.stemWord(word))
    return word


def script_language(text: str) -> str:
    """The language a claim is written in, as far as its letters tell (see `monitor.text.language`)."""
    return language_of_text(text) or "en"


_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# A text more than this share of whose words are capitalised is in title case (a headline): its capitals
# say nothing about names.
_TITLE_CASE_SHARE = 0.6


@lru_cache(maxsize=65536)  # the same words come back in claim after claim
def _fold_word(word: str) -> str:
    return fold_text(word)


@lru_cache(maxsize=8192)  # a baseline's claims are read again for every claim matched against them
def designation_words(text: str) -> frozenset[str]:
    """The words (folded) that a text uses only inside a name: a run of two or more capitalised words
    with nothing but spaces between them ("Foreign Minister Vladimir Makei"). Two claims that share only
    such words name the same person or office, not the same proposition. Empty for a title-case text."""
    tokens = list(_NAME_WORD.finditer(text))
    capitalised = [token.group()[0].isupper() for token in tokens]
    if not tokens or sum(capitalised) > _TITLE_CASE_SHARE * len(tokens):
        return frozenset()
    inside: set[str] = set()
    outside: set[str] = set()
    position = 0
    while position < len(tokens):
        end = position + 1
        if capitalised[position]:
            while (
                end < len(tokens) and capitalised[end] and not text[tokens[end - 1].end() : tokens[end].start()].strip()
            ):
                end += 1
        run = {_fold_word(token.group()) for token in tokens[position:end]}
        (inside if end - position >= 2 else outside).update(run)
        position = end
    return frozenset(inside - outside)
