"""Claims as the matcher compares them: folded text, figures read as values, words reduced to terms.

`analyze_claim` is the one entry point. A term is a stem, or the canonical key of a lexicon entry (a
name variant or synonym, possibly several words long); figures become one token each ("twenty" ->
"20", "June 26" and "26 June" -> "d0626"), so equal values compare equal whatever the spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from monitor.matching.figures import Figure, extract_figures
from monitor.matching.lexicon import Lexicon
from monitor.matching.text import fold_text, stem, word_tokens


@dataclass(frozen=True)
class ClaimAnalysis:
    """One claim, normalised.

    `words` are the folded words (figures replaced by their tokens) and `stems` their stems, one per
    word; `terms` are the content terms in order, `term_starts` the word index where each begins and
    `surfaces` the words each term stands for (for evidence).
    """

    text: str
    folded: str
    words: tuple[str, ...]
    stems: tuple[str, ...]
    terms: tuple[str, ...]
    term_starts: tuple[int, ...]
    surfaces: tuple[str, ...]
    figures: tuple[Figure, ...]

    @property
    def term_set(self) -> frozenset[str]:
        return frozenset(self.terms)

    def surface_of(self, term: str) -> str:
        """The words a term stands for, as written in this claim (folded)."""
        for candidate, surface in zip(self.terms, self.surfaces, strict=True):
            if candidate == term:
                return surface
        return term


def _replace_figures(folded: str, figures: list[Figure]) -> str:
    parts: list[str] = []
    cursor = 0
    for figure in figures:
        # A date's year stays among the claim's words too ("late January 2023" shares 2023 with "in 2023").
        token = figure.token if figure.year is None else f"{figure.token} y{figure.year}"
        parts += [folded[cursor : figure.start], f" {token} "]
        cursor = figure.end
    parts.append(folded[cursor:])
    return "".join(parts)


# Prefix of the term that says a claim counts something ("#troop" for "9,000 troops"), whatever the number.
COUNT_PREFIX = "#"


def is_figure_term(term: str) -> bool:
    """Whether a term is a figure token (a number, date, month or year, or a count's "#what") rather than
    a word."""
    return term[:1].isdigit() or term[:1] == COUNT_PREFIX or (term[:1] in "dmy" and term[1:2].isdigit())


def analyze_claim(text: str, lexicon: Lexicon) -> ClaimAnalysis:
    """Normalise one claim: fold it, read its figures, stem its words and map lexicon variants."""
    folded = fold_text(text)
    figures = extract_figures(folded)
    words = word_tokens(_replace_figures(folded, figures) if figures else folded)
    stems = [stem(word) for word in words]
    terms: list[str] = []
    starts: list[int] = []
    surfaces: list[str] = []
    cursor = 0
    for start, end, key in lexicon.variants.find(stems, words):
        _add_plain(stems, words, cursor, start, lexicon, terms, starts, surfaces)
        terms.append(key)
        starts.append(start)
        surfaces.append(" ".join(words[start:end]))
        cursor = end
    _add_plain(stems, words, cursor, len(stems), lexicon, terms, starts, surfaces)
    _add_counted(figures, words, lexicon, terms, starts, surfaces)
    return ClaimAnalysis(
        text=text,
        folded=folded,
        words=tuple(words),
        stems=tuple(stems),
        terms=tuple(terms),
        term_starts=tuple(starts),
        surfaces=tuple(surfaces),
        figures=tuple(figures),
    )


def _add_plain(
    stems: list[str],
    words: list[str],
    start: int,
    end: int,
    lexicon: Lexicon,
    terms: list[str],
    starts: list[int],
    surfaces: list[str],
) -> None:
    for index in range(start, end):
        term = stems[index]
        if term in lexicon.stopwords or (len(term) < 2 and not term.isdigit()):
            continue
        terms.append(term)
        starts.append(index)
        surfaces.append(words[index])


def _add_counted(
    figures: list[Figure],
    words: list[str],
    lexicon: Lexicon,
    terms: list[str],
    starts: list[int],
    surfaces: list[str],
) -> None:
    """Add a "#what" term for each count of something: "9,000 troops" and "10,500 military personnel"
    then share "#troop" although their numbers differ, which is what makes one an update of the other."""
    for figure in figures:
        key = count_key(figure, lexicon)
        if key is None:
            continue
        position = words.index(figure.token) if figure.token in words else 0
        terms.append(COUNT_PREFIX + key)
        starts.append(position)
        surfaces.append(figure.text)


@lru_cache(maxsize=16384)  # a count's few head words ("troops", "military personnel") recur in claim after claim
def _terms_of(words: str, lexicon: Lexicon) -> tuple[str, ...]:
    return analyze_claim(words, lexicon).terms


def _head_words(figure: Figure, lexicon: Lexicon) -> tuple[str, ...]:
    """The words right after a count that say what it counts, up to the first function word: "troops"
    of "9,000 troops in Belarus", "belarusians" of "a thousand Belarusians have applied"."""
    words: list[str] = []
    for word in figure.head:
        if stem(word) in lexicon.stopwords:
            break
        words.append(word)
    return tuple(words)


def count_key(figure: Figure, lexicon: Lexicon) -> str | None:
    """What a count counts, as one lexicon key or stem ("10.5 thousand military personnel" -> "troop"),
    or None when it is no count or says nothing it counts."""
    if figure.kind != "count":
        return None
    for term in _terms_of(" ".join(_head_words(figure, lexicon)), lexicon):
        if term in lexicon.entity_keys or is_figure_term(term):
            continue
        return term
    return None


def head_keys(figure: Figure, lexicon: Lexicon) -> frozenset[str]:
    """What a count counts, as lexicon keys ("10.5 thousand military personnel" -> {"troop"}).

    Names are left out: "9,000 Russian troops" and "10,000 troops" count the same thing."""
    words = _head_words(figure, lexicon)
    if not words:
        return frozenset()
    terms = _terms_of(" ".join(words), lexicon)
    return frozenset(term for term in terms if term not in lexicon.entity_keys and not is_figure_term(term))


def normalize_text(text: str, lexicon: Lexicon) -> str:
    """The claim's terms as one string: what fuzzy scorers compare ("20 rocket target desna chernihiv")."""
    return " ".join(analyze_claim(text, lexicon).terms)
