"""Claims as the matcher compares them: folded text, figures read as values, words reduced to terms.

`analyze_claim` is the one entry point. A term is a stem, or the canonical key of a lexicon entry (a
name variant or synonym, possibly several words long); figures become one token each ("twenty" ->
"20", "June 26" and "26 June" -> "d0626"), so equal values compare equal whatever the spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        parts += [folded[cursor : figure.start], f" {figure.token} "]
        cursor = figure.end
    parts.append(folded[cursor:])
    return "".join(parts)


def is_figure_term(term: str) -> bool:
    """Whether a term is a figure token (a number, date, month or year) rather than a word."""
    return term[:1].isdigit() or (term[:1] in "dmy" and term[1:2].isdigit())


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
    for start, end, key in lexicon.variants.find(stems):
        _add_plain(stems, words, cursor, start, lexicon, terms, starts, surfaces)
        terms.append(key)
        starts.append(start)
        surfaces.append(" ".join(words[start:end]))
        cursor = end
    _add_plain(stems, words, cursor, len(stems), lexicon, terms, starts, surfaces)
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


def head_keys(figure: Figure, lexicon: Lexicon) -> frozenset[str]:
    """What a count counts, as lexicon keys ("10.5 thousand military personnel" -> {"troop"}).

    Names are left out: "9,000 Russian troops" and "10,000 troops" count the same thing."""
    if not figure.head:
        return frozenset()
    terms = analyze_claim(" ".join(figure.head), lexicon).terms
    return frozenset(term for term in terms if term not in lexicon.entity_keys and not is_figure_term(term))


def normalize_text(text: str, lexicon: Lexicon) -> str:
    """The claim's terms as one string: what fuzzy scorers compare ("20 rocket target desna chernihiv")."""
    return " ".join(analyze_claim(text, lexicon).terms)
