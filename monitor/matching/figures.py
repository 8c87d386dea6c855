"""Figures and dates in claims, read as values: "twenty" = 20, "10.5 thousand" = 10,500,
"12,000-15,000" a range, "June 26" = "26 June", "about 10,000" an approximate value.

`extract_figures` works on folded text (see `text.fold_text`) and returns each figure with its span,
so the normaliser can replace it with one canonical token and the verdict can quote it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    # Russian, Ukrainian and Belarusian (the forms news writes a count in; case forms where they differ).
    "один": 1,
    "одна": 1,
    "два": 2,
    "две": 2,
    "дві": 2,
    "тры": 3,
    "три": 3,
    "чотири": 4,
    "четыре": 4,
    "чатыры": 4,
    "пять": 5,
    "п'ять": 5,
    "пяць": 5,
    "шесть": 6,
    "шість": 6,
    "шэсць": 6,
    "семь": 7,
    "сім": 7,
    "сем": 7,
    "восемь": 8,
    "вісім": 8,
    "восем": 8,
    "девять": 9,
    "дев'ять": 9,
    "дзевяць": 9,
    "десять": 10,
    "десяти": 10,
    "дзесяць": 10,
    "двадцать": 20,
    "двадцять": 20,
    "дваццаць": 20,
    "тридцать": 30,
    "тридцять": 30,
    "трыццаць": 30,
    "сорок": 40,
    "пятьдесят": 50,
    "п'ятдесят": 50,
    "сто": 100,
    "двух": 2,
    "двох": 2,
    "трех": 3,
    "трёх": 3,
    "трьох": 3,
    "пяти": 5,
    "п'яти": 5,
    "шести": 6,
    "семи": 7,
    "восьми": 8,
    "девяти": 9,
    "двадцати": 20,
    "двадцяти": 20,
    "тридцати": 30,
    "тридцяти": 30,
}
# Genitive forms after a number word ("двадцати тысяч"): the scale word reads as in the nominative.
_CYRILLIC_THOUSANDS = frozenset({"тысяч", "тысячи", "тисяч", "тисячі", "тысячы"})
# Scale words written abbreviated with a full stop ("9 тыс. военнослужащих").
_ABBREVIATED_SCALES = frozenset({"тыс", "тис", "млн"})
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "k": 1_000,
    "тысяч": 1_000,
    "тысячи": 1_000,
    "тысяча": 1_000,
    "тыс": 1_000,
    "тисяч": 1_000,
    "тисячі": 1_000,
    "млн": 1_000_000,
    "миллиона": 1_000_000,
    "мільйонів": 1_000_000,
    "тысячы": 1_000,
    "тисяча": 1_000,
    "тис": 1_000,
    "миллион": 1_000_000,
    "миллионов": 1_000_000,
    "мільйон": 1_000_000,
    "мільйона": 1_000_000,
    "мільён": 1_000_000,
}
# Vague amounts: "dozens of soldiers" is a figure too, just a wide one.
_VAGUE = {"dozens": (24.0, 144.0), "hundreds": (200.0, 999.0), "thousands": (2_000.0, 9_999.0)}
_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
    # Russian and Ukrainian month names, in the genitive used with a day ("26 июня", "26 червня").
    "января": 1,
    "февраля": 2,
    "марта": 3,
    "апреля": 4,
    "мая": 5,
    "июня": 6,
    "июля": 7,
    "августа": 8,
    "сентября": 9,
    "октября": 10,
    "ноября": 11,
    "декабря": 12,
    "січня": 1,
    "лютого": 2,
    "березня": 3,
    "квітня": 4,
    "травня": 5,
    "червня": 6,
    "липня": 7,
    "серпня": 8,
    "вересня": 9,
    "жовтня": 10,
    "листопада": 11,
    "грудня": 12,
    # Belarusian, with a day; then the month alone ("в июне 2022", "у червні", "у чэрвені").
    "студзеня": 1,
    "лютага": 2,
    "сакавіка": 3,
    "красавіка": 4,
    "траўня": 5,
    "чэрвеня": 6,
    "ліпеня": 7,
    "жніўня": 8,
    "верасня": 9,
    "кастрычніка": 10,
    "снежня": 12,
    "январе": 1,
    "феврале": 2,
    "марте": 3,
    "апреле": 4,
    "мае": 5,
    "июне": 6,
    "июле": 7,
    "августе": 8,
    "сентябре": 9,
    "октябре": 10,
    "ноябре": 11,
    "декабре": 12,
    "январь": 1,
    "февраль": 2,
    "март": 3,
    "апрель": 4,
    "май": 5,
    "июнь": 6,
    "июль": 7,
    "август": 8,
    "сентябрь": 9,
    "октябрь": 10,
    "ноябрь": 11,
    "декабрь": 12,
    "січні": 1,
    "лютому": 2,
    "березні": 3,
    "квітні": 4,
    "травні": 5,
    "червні": 6,
    "липні": 7,
    "серпні": 8,
    "вересні": 9,
    "жовтні": 10,
    "листопаді": 11,
    "грудні": 12,
    "студзені": 1,
    "лютым": 2,
    "сакавіку": 3,
    "красавіку": 4,
    "траўні": 5,
    "чэрвені": 6,
    "ліпені": 7,
    "жніўні": 8,
    "верасні": 9,
    "кастрычніку": 10,
    "лістападзе": 11,
    "снежні": 12,
}
# Month names that are only ever months (a bare "May" may be a verb; "июне" never is).
_UNAMBIGUOUS_MONTHS = frozenset(name for name in _MONTHS if not name.isascii())
_MONTH_NAMES = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# Before a bare month name, these make it a date ("in May") rather than a verb ("may join").
_MONTH_CONTEXT = {"in", "of", "since", "until", "by", "early", "late", "mid", "end", "from", "during", "last", "next"}
_APPROX = {
    "about",
    "around",
    "some",
    "nearly",
    "almost",
    "approximately",
    "roughly",
    "estimated",
    "up to",
    "около",
    "примерно",
    "порядка",
    "почти",
    "приблизно",
    "близько",
    "майже",
    "каля",
    "амаль",
    "прыблізна",
}
_AT_LEAST = {
    "more than",
    "over",
    "at least",
    "above",
    "upwards of",
    "exceeding",
    "более",
    "больше",
    "свыше",
    "понад",
    "більше",
    "більш ніж",
    "больш",
    "больш за",
    "звыш",
    "не менее",
}
_AT_MOST = {"less than", "fewer than", "under", "below", "at most", "no more than", "менее", "меньше", "менше", "менш"}
_HEAD_SKIP = {"the", "a", "an", "more", "additional", "new", "other", "extra", "of"}

# Designations ("s400", "mig31k") are words, not numbers; then numbers, words, and single symbols.
_TOKEN = re.compile(
    r"[^\W\d_]+\d\w*|\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th)?(?![\w])|\d\w*|[^\W\d_]+|%|-|\S", re.UNICODE
)
_YEAR_CONTEXT = _MONTH_CONTEXT | {
    "before",
    "after",
    "in",
    ",",
    "year",
    "summer",
    "spring",
    "autumn",
    "winter",
    "в",
    "у",
    "ў",
    "с",
    "з",
    "до",
}
# Words that say the figure before them is a year ("2022 г.", "в 2022 году", "у 2022 годзе").
_YEAR_WORDS = frozenset({"г", "года", "году", "год", "рік", "року", "році", "годзе"})


@dataclass(frozen=True)
class Figure:
    """One figure or date: its kind, its value interval, the words it counts, and where it stands."""

    kind: str  # "count", "percent", "date" (day and month), "month", "year"
    low: float | None
    high: float | None
    text: str  # the figure as written (folded)
    start: int
    end: int
    head: tuple[str, ...] = ()  # the words after a count that say what it counts ("troops"), or its
    # subject before a counting verb ("troops ... number about 30,000")
    approximate: bool = False
    year: int | None = None  # the year a date or a month is given with ("late January 2023")

    @property
    def token(self) -> str:
        """One index token standing for the value: "20", "12000to15000", "d0626", "m05", "y2022"."""
        if self.kind == "date" and self.low is not None:
            return f"d{int(self.low):04d}"
        if self.kind == "month" and self.low is not None:
            return f"m{int(self.low):02d}"
        if self.kind == "year" and self.low is not None:
            return f"y{int(self.low)}"
        low, high = _plain(self.low), _plain(self.high)
        return low if low == high else f"{low}to{high}"

    def compatible(self, other: Figure) -> bool:
        """Whether two figures of the same kind can both be true: their intervals overlap."""
        low_a, high_a = self._interval()
        low_b, high_b = other._interval()
        return low_a <= high_b and low_b <= high_a

    def _interval(self) -> tuple[float, float]:
        low = self.low if self.low is not None else float("-inf")
        high = self.high if self.high is not None else float("inf")
        if self.approximate and self.kind == "count":
            # "About 10,000" allows a few percent either way, not the next round figure.
            low, high = low * 0.96, high * 1.04
        return low, high


def _plain(value: float | None) -> str:
    if value is None:
        return "x"
    return str(int(value)) if value == int(value) else f"{value:g}".replace(".", "p")


def _number(token: str) -> float | None:
    digits = re.sub(r"(st|nd|rd|th)$", "", token).replace(",", "")
    try:
        return float(digits)
    except ValueError:
        return None


@dataclass
class _Cursor:
    """Tokens of the text with their spans; the scanner reads numbers and dates from it."""

    tokens: list[str]
    spans: list[tuple[int, int]]

    def word(self, index: int) -> str:
        return self.tokens[index] if 0 <= index < len(self.tokens) else ""


def _read_word_number(cur: _Cursor, index: int) -> tuple[float, int] | None:
    """A number in words from `index` ("twenty", "nine thousand", "a thousand", "three hundred")."""
    total = current = 0.0
    seen = False
    pos = index
    if cur.word(pos) == "a" and cur.word(pos + 1) in ("hundred", "thousand", "million"):
        current, pos, seen = 1.0, pos + 1, True
    while True:
        word = cur.word(pos)
        if word in _UNITS:
            current += _UNITS[word]
        elif seen and ((word in _SCALES and word != "k") or word in _CYRILLIC_THOUSANDS):
            scale = _SCALES[word]
            if scale == 100:
                current *= 100
            else:
                total += current * scale
                current = 0.0
        elif seen and cur.word(pos + 1) in _UNITS and (word == "-" or (word == "and" and total)):
            pos += 1  # "twenty-five", "two thousand and five"
            continue
        else:
            break
        seen = True
        pos += 1
    if not seen:
        return None
    return total + current, pos


def _read_number(cur: _Cursor, index: int) -> tuple[float, int] | None:
    """A number (digits or words, with an optional scale word) starting at `index`."""
    word = cur.word(index)
    if word[:1].isdigit():
        value = _number(word)
        if value is None:
            return None
        pos = index + 1
        scale = _SCALES.get(cur.word(pos))
        if scale:
            value, pos = value * scale, pos + 1
            if cur.word(pos) == "." and cur.word(pos - 1) in _ABBREVIATED_SCALES:
                pos += 1
        return value, pos
    return _read_word_number(cur, index)


def _qualifier(cur: _Cursor, index: int) -> tuple[str, int]:
    """The approximation or bound words just before `index` ("about", "more than"), and where they start."""
    two = f"{cur.word(index - 2)} {cur.word(index - 1)}"
    if two in _AT_LEAST or two in _AT_MOST or two in _APPROX:
        return two, index - 2
    one = cur.word(index - 1)
    if one in _AT_LEAST or one in _AT_MOST or one in _APPROX:
        return one, index - 1
    return "", index


# Verbs that give a count of their subject ("Russian troops in Belarus now number about 30,000", "the
# contingent totals 9,000", "their strength stood at 12,000"): what the count counts comes before them.
_COUNTING_VERBS = frozenset(
    {"number", "numbers", "numbered", "numbering", "total", "totals", "totalled", "totaled", "totalling", "totaling"}
)
_STANDING_VERBS = frozenset({"stand", "stands", "stood", "standing"})
# Between a subject and its counting verb: adverbs and auxiliaries, which name nothing counted.
_BEFORE_VERB = frozenset(
    {"now", "already", "currently", "still", "reportedly", "allegedly", "roughly", "has", "have", "had", "may", "might"}
)
# Where the subject of a counting verb begins at the latest: the word before it opens another clause.
_SUBJECT_STOPS = frozenset({"that", "and", "but", "which", "who", "while", "as", "said", "says", "when", "where"})
# The words a subject begins with that are not what it counts ("the number of Russian troops", "their
# strength"), besides `_HEAD_SKIP`.
_SUBJECT_SKIP = frozenset({"its", "their", "his", "number", "total", "strength"})


def _subject_head(cur: _Cursor, start: int) -> tuple[str, ...]:
    """What a count after a counting verb counts: the subject before the verb ("russian troops in belarus"
    of "Russian troops in Belarus now number about 30,000"), or nothing where no such verb precedes the
    count (`start`: where the count, its qualifier included, begins)."""
    verb = start - 1
    if cur.word(verb) == "at" and cur.word(verb - 1) in _STANDING_VERBS:
        verb -= 1
    elif cur.word(verb) not in _COUNTING_VERBS:
        return ()
    end = verb
    while cur.word(end - 1) in _BEFORE_VERB:
        end -= 1
    begin = end
    while begin > 0 and end - begin < 6 and cur.word(begin - 1)[:1].isalpha():
        if cur.word(begin - 1) in _SUBJECT_STOPS:
            break
        begin -= 1
    words = [cur.word(i) for i in range(begin, end)]
    while words and (words[0] in _HEAD_SKIP or words[0] in _SUBJECT_SKIP):
        words.pop(0)
    return tuple(words[:4])


def _head(cur: _Cursor, index: int) -> tuple[str, ...]:
    words: list[str] = []
    pos = index
    if cur.word(pos) == "of" and cur.word(pos + 1) in ("them", "those", "these", "it"):
        return ()
    while len(words) < 3 and pos < len(cur.tokens):
        word = cur.word(pos)
        if not word[:1].isalpha():
            break
        if word not in _HEAD_SKIP:
            words.append(word)
        pos += 1
    return tuple(words)


def _read_date(cur: _Cursor, index: int) -> tuple[Figure, int] | None:
    word = cur.word(index)
    month = _MONTHS.get(word)
    day: float | None = None
    end = index + 1
    start = index
    if month:
        skip = 2 if cur.word(index + 1) == "." else 1  # "Dec. 27"
        following = cur.word(index + skip)
        after = _number(following) if following[:1].isdigit() else None
        if after is not None and 1 <= after <= 31 and "," not in following and not _is_year(following):
            day, end = after, index + skip + 1
    elif word[:1].isdigit() and "," not in word:
        value = _number(word)
        skip = 2 if cur.word(index + 1) == "of" else 1
        month = _MONTHS.get(cur.word(index + skip))
        if value is None or not month or not 1 <= value <= 31:
            return None
        day, end = value, index + skip + 1
    else:
        return None
    if day is None and word == "may" and cur.word(index - 1) not in _MONTH_CONTEXT:
        return None
    unambiguous = word in _UNAMBIGUOUS_MONTHS
    if day is None and not unambiguous and cur.word(index - 1) not in _MONTH_CONTEXT and not _is_year(cur.word(end)):
        return None
    year: int | None = None
    if _is_year(cur.word(end)) or (cur.word(end) == "," and _is_year(cur.word(end + 1))):
        end = end + 1 if _is_year(cur.word(end)) else end + 2
        year = int(cur.word(end - 1))
        if cur.word(end) in _YEAR_WORDS:  # "28 февраля 2022 г.", "у 2022 годзе"
            end += 1
    text_end = cur.spans[end - 1][1]
    if day is None:
        return Figure("month", month, month, "", cur.spans[start][0], text_end, year=year), end
    value = month * 100 + day
    return Figure("date", value, value, "", cur.spans[start][0], text_end, year=year), end


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2100


def _reads_as_year(cur: _Cursor, index: int, after: int) -> bool:
    """A bare 1900-2100 is a year unless it plainly counts something ("2000 troops" after no preposition)."""
    head = _head(cur, after)
    return not head or cur.word(index - 1) in _YEAR_CONTEXT or not head[0].endswith("s")


def _read_count(cur: _Cursor, index: int) -> tuple[Figure, int] | None:
    word = cur.word(index)
    if word in _VAGUE:
        low, high = _VAGUE[word]
        head = _head(cur, index + 2 if cur.word(index + 1) == "of" else index + 1)
        span = (cur.spans[index][0], cur.spans[index][1])
        return Figure("count", low, high, "", span[0], span[1], head, approximate=True), index + 1
    number = _read_number(cur, index)
    if number is None:
        return None
    low, pos = number
    high = low
    is_range_word = cur.word(pos) in ("-", "to") or (cur.word(pos) == "and" and cur.word(index - 1) == "between")
    if is_range_word:
        upper = _read_number(cur, pos + 1)
        if upper is not None and upper[0] > low:
            high, pos = upper
            if high >= 1000 and low < 1000 and low * 1000 <= high:
                low *= 1000  # "12-15 thousand"
    if cur.word(pos) in ("am", "pm") or cur.word(pos) == ":":
        return None
    qualifier, start_index = _qualifier(cur, index)
    kind = "count"
    if cur.word(pos) == "%" or (cur.word(pos) == "per" and cur.word(pos + 1) == "cent") or cur.word(pos) == "percent":
        kind = "percent"
        pos += 2 if cur.word(pos) == "per" else 1
    elif _is_year(word) and low == high and _reads_as_year(cur, index, pos):
        return Figure("year", low, low, "", cur.spans[index][0], cur.spans[pos - 1][1]), pos
    figure = Figure(
        kind,
        None if qualifier in _AT_MOST else low,
        None if qualifier in _AT_LEAST else high,
        "",
        cur.spans[start_index][0],
        cur.spans[pos - 1][1],
        (_subject_head(cur, start_index) or _head(cur, pos)) if kind == "count" else (),
        approximate=qualifier in _APPROX,
    )
    return figure, pos


# The words a figure can start with besides digits: a month, a vague count ("dozens"), a number word, or
# "a" ("a thousand"). See `_read_date`, `_read_count` and `_read_word_number`.
_FIGURE_STARTS = frozenset(_MONTHS) | frozenset(_VAGUE) | frozenset(_UNITS) | {"a"}
# Whether a text can hold a figure at all: a digit, one of those words as a whole run of letters, or "a"
# before a scale word. Most claims a large baseline re-reads hold none, and are passed without tokenising.
_MAY_HOLD_FIGURE = re.compile(
    r"\d|(?<![^\W\d_])(?:"
    + "|".join(sorted((re.escape(word) for word in _FIGURE_STARTS - {"a"}), key=len, reverse=True))
    + r")(?![^\W\d_])|(?<![^\W\d_])a\s+(?:hundred|thousand|million)(?![^\W\d_])"
)


def extract_figures(folded: str) -> list[Figure]:
    """Every figure and date in folded text, left to right, each with its span and value."""
    if not _MAY_HOLD_FIGURE.search(folded):
        return []
    matches = list(_TOKEN.finditer(folded))
    cur = _Cursor([m.group(0) for m in matches], [m.span() for m in matches])
    figures: list[Figure] = []
    index = 0
    while index < len(cur.tokens):
        word = cur.tokens[index]
        # Most words start no figure: passed after one look (this runs for every claim analysed).
        if not word[:1].isdigit() and word not in _FIGURE_STARTS:
            index += 1
            continue
        found = _read_date(cur, index) or _read_count(cur, index)
        if found is None:
            index += 1
            continue
        figure, index = found
        figures.append(replace(figure, text=folded[figure.start : figure.end]))
    return figures


def describe(figure: Figure) -> str:
    """A figure as a person writes it: "June 26", "12,000-15,000", "about 10,000"."""
    if figure.kind == "date" and figure.low is not None:
        return f"{_MONTH_NAMES[int(figure.low) // 100]} {int(figure.low) % 100}"
    if figure.kind == "month" and figure.low is not None:
        return _MONTH_NAMES[int(figure.low)]
    return figure.text


def figures_of_kind(figures: Sequence[Figure], kind: str) -> list[Figure]:
    return [figure for figure in figures if figure.kind == kind]
