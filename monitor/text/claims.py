"""From article text to claims: whitespace cleanup, sentence splitting and the claim filter.

Pure functions, no I/O. The same code runs on the baseline corpus and on every crawled article, so the
rules are general (patterns over sentences), written for English and for Cyrillic-script languages
(Russian, Ukrainian, Belarusian) alike. The splitter is rule-based on purpose: no model download, and
every decision can be explained by pointing at one rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = [
    "extract_claims",
    "is_call_to_action",
    "is_claim",
    "is_comment_header",
    "is_picture_credit",
    "normalize_whitespace",
    "split_paragraphs",
    "split_sentences",
]

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


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A candidate end of sentence: terminal punctuation (ellipses included), then any closing quotes or
# brackets, then whitespace. A full stop with no space after it ("10.5", "cdmedia.com") never ends one.
_TERMINATOR_RE = re.compile(r"(?:[.!?…]+)[\"'”’»)\]]*(?=\s)")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")
_NEXT_TOKEN_RE = re.compile(r"\s*(\S+)")
_DOTTED_ACRONYM_RE = re.compile(r"^(?:[^\W\d_]{1,2}\.){1,}[^\W\d_]{1,2}$")  # "U.S", "a.m", "т.е"

# Abbreviations that never end a sentence when a capitalised word follows: titles before names,
# "St. Petersburg", and the Cyrillic street/city/rank abbreviations before names ("ул. Ленина", "г. Минск").
_TITLE_ABBREVIATIONS = _word_set(
    "mr mrs ms messrs dr prof gen lt col maj capt cpt sgt cmdr adm brig gov sen rep rev hon pres amb "
    "insp supt st mt ft vs cf e.g i.e approx ca т.е т.д т.п т.н т.к "
    "ул им ген проф акад св пл просп пер гр тов вул пров ім акад пр-т"
)
# Abbreviations that never end a sentence when a number follows ("Jan. 5", "No. 10", "Art. 3", "ст. 5").
_BEFORE_NUMBER_ABBREVIATIONS = _word_set(
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos art fig figs p pp vol vols ch sec para ст п ч рис стр c с"
)
# Abbreviations that may end a sentence ("... from the U.S. The EU said"): they end one only when a word
# that typically opens a sentence follows, so "U.S. President" and "Smith Jr. Said" stay whole.
_AMBIGUOUS_ABBREVIATIONS = _word_set("inc ltd co corp jr sr etc al bros plc llc")
_SENTENCE_STARTERS = _word_set(
    "a an the this that these those it its he she they we i you his her their our my there here "
    "but and or so yet however in on at for as if when while after before since although though "
    "meanwhile moreover thus still also according some many most all both now then today yesterday "
    "earlier later last next what why how who where such other another one no it's "
    "в во на по это он она оно они но и а однако при с как так также кроме ранее позже сейчас теперь "
    "тогда там здесь если когда после до для из за к о у что все этот эта эти "
    "але це він вона вони проте також як що після цей ця ці гэта ён яна яны таксама калі пасля"
)
# Lower-case one-letter Cyrillic abbreviations: "г." (year or city), "м." (Ukrainian city), "р." (year).
_CYRILLIC_LETTER_ABBREVIATIONS = _word_set("г м р д с т")

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


# ---------------------------------------------------------------------------------------------------------
# The claim filter

_WORD_RE = re.compile(r"[^\W_][\w’'.\-]*")
# Closing marks after the last word; a footnote mark ("1980.*") does not hide the full stop before it.
_TRAILING_CLOSERS = "\"'”’»“)]‘*† "
_QUOTE_MARKS = "\"'“”„«»‘’"
_TERMINAL_CHARS = ".!?…"

# A claim names someone or something and says what they did: two words cannot do both.
_MIN_WORDS = 3
# A line without final punctuation that is this short is a heading, caption, byline or menu item.
_MAX_UNPUNCTUATED_FRAGMENT_WORDS = 15
# The verb check is only trusted on short sentences; longer ones that reach it are prose.
_MAX_VERB_CHECKED_WORDS = 8

# Calls to the reader. Imperatives at the start of the sentence, and phrases that only a site speaking
# to its readers uses anywhere in it. Plain words such as "subscription" or "share" are left alone
# because news sentences use them too ("Netflix suspended subscriptions", "share prices fell").
_CTA_START_RE = re.compile(
    r"^(?:please\s+)?(?:subscribe|donate|sign\s?-?up\b|(?:follow|like|join|support|help)\s+us\b"
    r"|share\s+(?:this|on|via)\b|leave\s+a\s+(?:comment|reply)\b|(?:click|tap)\s+(?:here|to|the)\b"
    r"|read\s+(?:more|also|next)\b|continue\s+reading|download\s+(?:our|the\s+app)|get\s+our\b"
    r"|don[’']t\s+miss|support\s+(?:real|independent|our)\b"
    r"|подпишитесь|подписывайтесь|поддержите|читайте\s+(?:также|нас)|оставьте\s+комментарий"
    r"|підпишіться|підписуйтесь|підтримайте|читайте\s+(?:також|нас)|залиште\s+коментар"
    r"|падпісвайцеся|падпішыцеся|падтрымайце|чытайце\s+(?:таксама|нас))",
    re.IGNORECASE,
)
_CTA_ANYWHERE_RE = re.compile(
    r"\b(?:follow\s+us|sign\s+up\s+(?:here|now|today|for\s+(?:our|free))|subscribe\s+(?:to|now|today)"
    r"|our\s+(?:\w+\s+)?newsletter|leave\s+a\s+(?:comment|reply)|donate\s*!|share\s+this\s+(?:article|story)"
    r"|support\s+(?:real|independent)\s+(?:\w+\s+)?journalism|all\s+rights\s+reserved"
    r"|(?:you|we)\s+(?:may|might)\s+also\s+like|recommended\s+for\s+you"
    r"|подпишитесь|подписывайтесь|наш\s+телеграм|підпишіться|підписуйтесь|падпісвайцеся)",
    re.IGNORECASE,
)
# Second person in an exclamation: "You Won’t Get Anywhere Else What You Get From CDMedia!"
_READER_ADDRESS_RE = re.compile(r"\b(?:you|your|us|our|вы|вас|ваш|наш|ви|вам|нас)\b", re.IGNORECASE)

# Picture credits and captions: "Image by ...", "Photo: Reuters", "Фото: БелТА", "(AP Photo/...)".
# A credit is short; a long sentence that mentions "Getty Images" is prose about it.
_MAX_CREDIT_WORDS = 25
_CREDIT_RE = re.compile(
    r"^\(?(?:(?:cover|main|top|featured|header|lead)\s+)?"
    r"(?:image|photo(?:graph)?|picture|illustration|video|credit|фото|изображение|иллюстрация|светлина"
    r"|світлина|фота|ілюстрацыя)s?\b\s*(?:by|:|©|credit|courtesy|via|/|—|–|-)"
    r"|©|\b(?:getty\s+images|ap\s+photo|afp\s+photo|reuters/|shutterstock)\b",
    re.IGNORECASE,
)

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    r"|січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня"
    r"|студзеня|лютага|сакавіка|красавіка|чэрвеня|ліпеня|жніўня|верасня|кастрычніка|лістапада|снежня)\.?"
)
_DATE = (
    rf"(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
)
_TIME = r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?\s?m\.?)?"
# "Steven March 5, 2022 at 2:34 am", "Иван 5 марта 2022 в 14:34": a commenter's name, a date and a time.
_COMMENT_HEADER_RE = re.compile(
    rf"^\S.{{0,60}}?\s{_DATE}\s*(?:,|at|в|о|а|um|à)?\s*{_TIME}$"
    r"|^\d+\s+(?:comments?|responses?|replies|reply|thoughts?)(?:\s+(?:on|to)\s.*)?$"
    r"|^\d+\s+(?:комментари\w*|коментар\w*|каментар\w*|ответ\w*)$"
    r"|^\S.{0,60}\s(?:says|пишет|пише|піша):$",
    re.IGNORECASE,
)
# Page metadata: "Updated: March 5, 2022.", "Posted on 5 March", "Tags: Belarus, Russia", "Опубликовано ...".
_METADATA_RE = re.compile(
    r"^(?:(?:last\s+)?updated|published|posted(?:\s+on)?|tags|tagged|filed\s+under|categories|topics"
    r"|обновлено|опубликовано|оновлено|опубліковано|абноўлена|апублікавана|теги|метки|тэгі)\b",
    re.IGNORECASE,
)
_MAX_METADATA_WORDS = 12
# Breadcrumbs and menus: "Home | World | Europe", "News › Belarus › Politics".
_MENU_SEPARATOR_RE = re.compile(r"\s[›•>/]\s|\|")

# Words that carry no content, for the title-case test (a headline capitalises everything else).
_FUNCTION_WORDS = _word_set(
    "a an the and or but nor of to in on at by for from with as into onto over under about after before "
    "is are was were be been am it its this that these those what which who whom whose you your we our "
    "they their he she his her him i me my not no so than then too very via vs per"
)
# English words that show a sentence has a finite verb; closed classes, plus common irregular pasts
# that no suffix rule finds ("Putin flew to Minsk").
_ENGLISH_VERBS = _word_set(
    "is are was were be been being am has have had do does did will would shall should can could may "
    "might must isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't "
    "can't couldn't shouldn't mustn't it's there's that's he's she's they're we're "
    "said told met flew went came took made gave got began held left sent saw won lost hit led fell rose "
    "struck fought built bought brought thought kept found ran set put shot spoke wrote drew chose knew "
    "sought meant paid became felt stood understood sold lay let cut hid withdrew overtook"
)
# Lower-case English words ending in -s that are not verbs in the third person.
_NOT_VERBS_IN_S = _word_set(
    "this his its as us thus yes news always perhaps across towards afterwards less unless whereas "
    "besides various previous serious numerous famous nervous obvious plus gas series species "
    "politics economics physics tens dozens hundreds thousands millions billions ours yours theirs "
    "hers whose was has does is"
)
_ENGLISH_MARKERS = _word_set("the a an of to in and is are was were for on with that by")
# Endings of finite verbs and infinitives in Russian, Ukrainian and Belarusian ("заявил", "будет",
# "заявив", "атакуе", "будзе", "ёсць"): a heuristic, used only on short sentences.
_CYRILLIC_VERB_RE = re.compile(
    r"(?:ть|ться|тись|ти|чь|ць|цца|ет|ёт|ют|ут|ит|ят|ется|ются|ится|ятся|ешь|ишь|ете|ите"
    r"|ал|ял|ил|ел|ыл|ла|ло|ли|лі|лся|лась|лось|лись|ав|ив|ів|ув|ыў|іў|аў|еў|є|ють|уть|ае|уе"
    r"|юць|уць|іць|аць|дзе|есть|нет|ёсць|няма)$"
)
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")


def _words(sentence: str) -> list[str]:
    return _WORD_RE.findall(sentence)


def _final_char(sentence: str) -> str:
    stripped = sentence.rstrip(_TRAILING_CLOSERS)
    return stripped[-1] if stripped else ""


def _is_question(sentence: str) -> bool:
    # Questions ask; they do not assert ("But can it really?"). A question quoted inside a statement
    # ("“Why?” he asked.", "He asked: “Will Belarus join?”") reports that someone asked: still a claim.
    stripped = sentence.rstrip(_TRAILING_CLOSERS)
    if not stripped.endswith(("?", "?!", "!?", "?..")):
        return False
    closes_a_quote = any(char in _QUOTE_MARKS for char in sentence[len(stripped) :])
    return not closes_a_quote or sentence[0] in _QUOTE_MARKS


def is_call_to_action(sentence: str) -> bool:
    """Whether `sentence` asks the reader to subscribe, donate, follow, sign up, share or comment."""
    text = normalize_whitespace(sentence).lstrip("\"'“„«‘([")
    if _CTA_START_RE.search(text) or _CTA_ANYWHERE_RE.search(text):
        return True
    # A site exclaiming at its readers ("You Won’t Get ... From CDMedia!") is advertising, not news;
    # an exclamation inside quotation marks is someone's words being reported ("“Defend our land!”").
    stripped = text.rstrip(_TRAILING_CLOSERS)
    quoted = any(char in _QUOTE_MARKS for char in text[len(stripped) :])
    return stripped.endswith("!") and not quoted and bool(_READER_ADDRESS_RE.search(text))


def is_picture_credit(text: str) -> bool:
    """Whether `text` credits a picture ("Image by ...", "Photo: Reuters", "Фото: БелТА", "© AFP")."""
    text = normalize_whitespace(text)
    return bool(_CREDIT_RE.search(text)) and len(text.split()) < _MAX_CREDIT_WORDS


def is_comment_header(text: str) -> bool:
    """Whether `text` heads a reader comment: a name with a date and time, a comment count, "X says:"."""
    return bool(_COMMENT_HEADER_RE.search(normalize_whitespace(text)))


def _looks_like_menu(sentence: str) -> bool:
    return len(_MENU_SEPARATOR_RE.findall(sentence)) >= 2 and _final_char(sentence) not in _TERMINAL_CHARS


def _looks_like_heading(sentence: str, words: list[str]) -> bool:
    # Headings, captions, bylines and menu entries do not end like sentences and are short
    # ("Tsarizm Staff", "L Todd Wood", "Belarusian President Aleksander Lukashenko’s mustache").
    if _final_char(sentence) not in _TERMINAL_CHARS and len(words) < _MAX_UNPUNCTUATED_FRAGMENT_WORDS:
        return True
    # Title case: every content word capitalised ("Russia And Ukraine: Enemy At The Gates"). A real
    # sentence always has a lower-case word beyond its names, usually the verb.
    content = [word for word in words if word.lower() not in _FUNCTION_WORDS and word[0].isalpha()]
    return len(content) >= 3 and all(word[0].isupper() for word in content)


def _has_verb(sentence: str, words: list[str]) -> bool:
    """Heuristic: whether a short sentence has a finite verb (English or Cyrillic-script languages)."""
    lowered = [word.lower().rstrip(".") for word in words]
    if _CYRILLIC_RE.search(sentence):
        # Russian drops the copula and writes a dash instead: "Лукашенко — президент Беларуси."
        return " — " in sentence or " – " in sentence or any(_CYRILLIC_VERB_RE.search(w) for w in lowered)
    if not _ENGLISH_MARKERS.intersection(lowered):
        # Not English (or too little text to tell): this lexicon cannot judge, so do not reject.
        return True
    for word, low in zip(words, lowered, strict=True):
        if low in _ENGLISH_VERBS:
            return True
        if word[0].islower() and low.isalpha() and len(low) > 3:
            if low.endswith("ed"):
                return True
            if low.endswith("s") and not low.endswith(("ss", "us", "is")) and low not in _NOT_VERBS_IN_S:
                return True
    return False


def is_claim(sentence: str) -> bool:
    """Whether `sentence` asserts something checkable: who did what, figures, dates, places, quotes.

    False for questions, calls to the reader, picture credits, reader-comment headers, menus, headings
    and title-case fragments, bylines, and short fragments with no verb.
    """
    text = normalize_whitespace(sentence)
    words = _words(text)
    # Each rule rejects one kind of non-claim; the comments at the patterns above say why.
    if len(words) < _MIN_WORDS or _is_question(text) or is_call_to_action(text):
        return False
    short = len(words) < _MAX_METADATA_WORDS
    if is_picture_credit(text) or (_METADATA_RE.search(text) and short):
        return False
    if is_comment_header(text) or _looks_like_menu(text) or _looks_like_heading(text, words):
        return False
    return len(words) > _MAX_VERB_CHECKED_WORDS or _has_verb(text, words)


def extract_claims(text: str) -> list[str]:
    """Return the claims of `text`: its sentences that pass `is_claim`, in order, without repeats.

    Repeats are judged on the sentence with normalised whitespace and case folded; the first is kept.
    """
    claims: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        key = sentence.casefold()
        if key not in seen and is_claim(sentence):
            seen.add(key)
            claims.append(sentence)
    return claims
