"""From article text to sentences: whitespace cleanup, paragraphs and the sentence splitter.

Pure functions, no I/O. The same code runs on the baseline corpus and on every crawled article, so the
rules are general (patterns over sentences), written for English and for Cyrillic-script languages
(Russian, Ukrainian, Belarusian) alike. The splitter is rule-based on purpose: no model download, and
every decision can be explained by pointing at one rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["normalize_whitespace", "split_paragraphs", "split_sentences", "word_set"]

# ---------------------------------------------------------------------------------------------------------
# Whitespace

# Invisible characters that break words apart for the matcher but are not whitespace to str.split().
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def normalize_whitespace(text: str) -> str:
    """Return `text` with every run of Unicode whitespace (no-break and thin spaces, newlines) as one space.

    Zero-width characters and soft hyphens are dropped; everything else, curly quotes included, is kept.
    """
    # str.split() without arguments splits on all Unicode whitespace (U+00A0, U+2009, U+202F, U+3000...).
    return " ".join(_INVISIBLE_RE.sub("", text).split())


# ---------------------------------------------------------------------------------------------------------
# Paragraphs

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\u2028|\u2029|\x0b|\x0c|\x85")
# A line ending in one of these is wrapped mid-sentence, so the next line continues it.
_CONTINUES_RE = re.compile(r"[,;:(\[“„«‘\-–—]$")


def _continues(previous: str, line: str) -> bool:
    first = line[0]
    return first.islower() or bool(_CONTINUES_RE.search(previous))


def split_paragraphs(text: str) -> list[str]:
    """Split `text` into paragraphs, each with its whitespace normalised.

    A blank line always ends a paragraph. A single line break also does (extractors such as trafilatura
    put one paragraph a line), unless the text was hard-wrapped: the next line starts in lower case or
    the line ends with a comma, colon, dash or an opening quote.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in _LINE_BREAK_RE.sub("\n", text).split("\n"):
        line = normalize_whitespace(raw_line)
        if current and (not line or not _continues(current[-1], line)):
            paragraphs.append(" ".join(current))
            current = []
        if line:
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


# ---------------------------------------------------------------------------------------------------------
# Sentences


def word_set(words: str) -> frozenset[str]:
    """The space-separated words of `words` as a set: how the word lists of these rules are written."""
    return frozenset(words.split())


# A candidate end of sentence: terminal punctuation (ellipses included), then any closing quotes or
# brackets, then whitespace. A full stop with no space after it ("10.5", "cdmedia.com") never ends one.
_TERMINATOR_RE = re.compile(r"(?:[.!?…]+)[\"'”’»)\]]*(?=\s)")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")
_NEXT_TOKEN_RE = re.compile(r"\s*(\S+)")
_DOTTED_ACRONYM_RE = re.compile(r"^(?:[^\W\d_]{1,2}\.){1,}[^\W\d_]{1,2}$")  # "U.S", "a.m", "т.е"

# Abbreviations that never end a sentence when a capitalised word follows: titles before names,
# "St. Petersburg", and the Cyrillic street/city/rank abbreviations before names ("ул. Ленина", "г. Минск").
_TITLE_ABBREVIATIONS = word_set(
    "mr mrs ms messrs dr prof gen lt col maj capt cpt sgt cmdr adm brig gov sen rep rev hon pres amb "
    "insp supt st mt ft vs cf e.g i.e approx ca т.е т.д т.п т.н т.к "
    "ул им ген проф акад св пл просп пер гр тов вул пров ім акад пр-т"
)
# Abbreviations that never end a sentence when a number follows ("Jan. 5", "No. 10", "Art. 3", "ст. 5").
_BEFORE_NUMBER_ABBREVIATIONS = word_set(
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos art fig figs p pp vol vols ch sec para ст п ч рис стр c с"
)
# Abbreviations that may end a sentence ("... from the U.S. The EU said"): they end one only when a word
# that typically opens a sentence follows, so "U.S. President" and "Smith Jr. Said" stay whole.
_AMBIGUOUS_ABBREVIATIONS = word_set("inc ltd co corp jr sr etc al bros plc llc")
_SENTENCE_STARTERS = word_set(
    "a an the this that these those it its he she they we i you his her their our my there here "
    "but and or so yet however in on at for as if when while after before since although though "
    "meanwhile moreover thus still also according some many most all both now then today yesterday "
    "earlier later last next what why how who where such other another one no it's "
    "в во на по это он она оно они но и а однако при с как так также кроме ранее позже сейчас теперь "
    "тогда там здесь если когда после до для из за к о у что все этот эта эти "
    "але це він вона вони проте також як що після цей ця ці гэта ён яна яны таксама калі пасля"
)
# Lower-case one-letter Cyrillic abbreviations: "г." (year or city), "м." (Ukrainian city), "р." (year).
_CYRILLIC_LETTER_ABBREVIATIONS = word_set("г м р д с т")

# Quotation marks that open a quotation, with the marks that may close it. Single quotes are handled
# apart because the right single quote is also the apostrophe.
_QUOTE_CLOSERS: dict[str, frozenset[str]] = {
    "“": frozenset('”"'),
    "„": frozenset("“”"),
    "«": frozenset("»"),
    '"': frozenset('"'),
    "‘": frozenset("’"),
}
# A quotation longer than this is not held together: past this length an unbalanced mark is more likely
# than a real quotation, and the matcher does better with sentences than with whole paragraphs.
_MAX_QUOTE_CHARS = 1200


# Every character that may open or close a quotation; the scan for quotations visits only these.
_QUOTE_CHAR_RE = re.compile("[" + re.escape("".join(sorted(set(_QUOTE_CLOSERS).union(*_QUOTE_CLOSERS.values())))) + "]")


def _closed_quote_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of every quotation that opens and closes within `text`."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for quote in _QUOTE_CHAR_RE.finditer(text):
        index, char = quote.start(), quote.group()
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        depth = _matching_depth(stack, char, after)
        if depth is not None:
            # Quotations opened inside this one and never closed ("“He said ‘no.”") end with it.
            spans.append((stack[depth][1], index))
            del stack[depth:]
        elif char in _QUOTE_CLOSERS and _can_open(char, before):
            stack.append((char, index))
    return [(start, end) for start, end in spans if end - start <= _MAX_QUOTE_CHARS]


def _matching_depth(stack: list[tuple[str, int]], char: str, after: str) -> int | None:
    """Position in `stack` of the innermost open quotation that `char` closes, if any."""
    if char == "’" and after.isalpha():
        # Inside a word "’" is an apostrophe ("Russia’s"), never a closing quote.
        return None
    for depth in range(len(stack) - 1, -1, -1):
        if char in _QUOTE_CLOSERS[stack[depth][0]]:
            return depth
    return None


def _can_open(char: str, before: str) -> bool:
    # Straight and single quotes only open a quotation at the start of a word; elsewhere they are inch
    # marks, apostrophes or stray characters ("republic!‘").
    if char in '"‘':
        return before.isspace() or before in "([{—–-“„«"
    return True


def _inside_quote(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < position < end for start, end in spans)


def _is_boundary(text: str, match: re.Match[str], spans: list[tuple[int, int]], start: int) -> bool:
    """Decide whether the terminator `match` ends the sentence that began at `start`."""
    end = match.end()
    next_token_match = _NEXT_TOKEN_RE.match(text, end)
    if next_token_match is None:
        return True
    next_token = next_token_match.group(1).lstrip("\"'“„«‘([")
    # A sentence never starts in lower case: this keeps "e.g. the", "тыс. военных" and "... immediately"
    # together, and "“Why?” he asked" whole.
    if not next_token or next_token[0].islower():
        return False
    # Punctuation inside a quotation that closes later belongs to the quotation: a quote of several
    # sentences followed by its attribution ("… Ukraine”, Belarusian leader stressed.") is one unit.
    if _inside_quote(match.end() - 1, spans):
        return False
    # A list number or a stray mark ("1.", "—.") is not a sentence of its own.
    if not any(char.isalpha() for char in text[start : match.start()]):
        return False
    if not match.group().startswith(".") or match.group().startswith(".."):
        return True
    return not _is_abbreviation(text[start : match.start()], next_token)


def _is_abbreviation(before: str, next_token: str) -> bool:
    """Whether the full stop after `before` belongs to an abbreviation rather than ending the sentence."""
    token_match = _LAST_TOKEN_RE.search(before)
    if token_match is None:
        return False
    token = token_match.group(1).lstrip("\"'“„«‘([")
    key = token.lower()
    next_key = next_token.lower().rstrip(",;:")
    if key in _TITLE_ABBREVIATIONS:
        return True
    if next_token[0].isdigit() and key in _BEFORE_NUMBER_ABBREVIATIONS:
        return True
    if key in _AMBIGUOUS_ABBREVIATIONS or _DOTTED_ACRONYM_RE.match(token):
        return next_key not in _SENTENCE_STARTERS
    if len(token) == 1 and token.isalpha():
        if token.isupper():
            # An initial: "S. R. Mogck", "А. Лукашенко".
            return True
        if key in _CYRILLIC_LETTER_ABBREVIATIONS:
            # "г. Минск" is a city. After a number "г." is a year, which may end the sentence ("в 2022 г.
            # В Минске ...") or not ("в 2022 г. Минск принял ..."), as with "U.S." above.
            previous = before[: token_match.start()].rstrip()
            return not (previous and previous[-1].isdigit()) or next_key not in _SENTENCE_STARTERS
    return False


def _split_paragraph(paragraph: str) -> Iterator[str]:
    spans = _closed_quote_spans(paragraph)
    start = 0
    for match in _TERMINATOR_RE.finditer(paragraph):
        if match.end() <= start:
            continue
        if _is_boundary(paragraph, match, spans, start):
            yield paragraph[start : match.end()].strip()
            start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        yield rest


def split_sentences(text: str) -> list[str]:
    """Split `text` into sentences, in order, each with normalised whitespace.

    Paragraph breaks always end a sentence. Within a paragraph the splitter keeps abbreviations
    ("U.S.", "Gen.", "Jan. 5", "S. R. Mogck", "г. Минск"), figures ("10.5", "12,000-15,000") and
    quotations of several sentences followed by their attribution together.
    """
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        sentences.extend(sentence for sentence in _split_paragraph(paragraph) if sentence)
    return sentences
