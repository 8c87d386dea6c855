"""From sentences to claims: the filter that keeps what asserts something checkable.

Pure functions, no I/O, rules over sentences in English and in Cyrillic-script languages (Russian,
Ukrainian, Belarusian) alike, as in `monitor.text.sentences`: every decision can be explained by pointing
at one rule.
"""

from __future__ import annotations

import re

from monitor.text.sentences import normalize_whitespace, split_sentences, word_set

__all__ = ["extract_claims", "is_call_to_action", "is_claim", "is_comment_header", "is_picture_credit"]

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
_FUNCTION_WORDS = word_set(
    "a an the and or but nor of to in on at by for from with as into onto over under about after before "
    "is are was were be been am it its this that these those what which who whom whose you your we our "
    "they their he she his her him i me my not no so than then too very via vs per"
)
# English words that show a sentence has a finite verb; closed classes, plus common irregular pasts
# that no suffix rule finds ("Putin flew to Minsk").
_ENGLISH_VERBS = word_set(
    "is are was were be been being am has have had do does did will would shall should can could may "
    "might must isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't "
    "can't couldn't shouldn't mustn't it's there's that's he's she's they're we're "
    "said told met flew went came took made gave got began held left sent saw won lost hit led fell rose "
    "struck fought built bought brought thought kept found ran set put shot spoke wrote drew chose knew "
    "sought meant paid became felt stood understood sold lay let cut hid withdrew overtook"
)
# Lower-case English words ending in -s that are not verbs in the third person.
_NOT_VERBS_IN_S = word_set(
    "this his its as us thus yes news always perhaps across towards afterwards less unless whereas "
    "besides various previous serious numerous famous nervous obvious plus gas series species "
    "politics economics physics tens dozens hundreds thousands millions billions ours yours theirs "
    "hers whose was has does is"
)
_ENGLISH_MARKERS = word_set("the a an of to in and is are was were for on with that by")
# Endings of finite verbs and infinitives in Russian, Ukrainian and Belarusian ("заявил", "будет",
# "заявив", "атакуе", "будзе", "ёсць"): a heuristic, used only on short sentences.
_CYRILLIC_VERB_RE = re.compile(
    r"(?:ть|ться|тись|ти|чь|ць|цца|ет|ёт|ют|ут|ит|ят|ется|ются|ится|ятся|ешь|ишь|ете|ите"
    r"|ал|ял|ил|ел|ыл|ла|ло|ли|лі|лся|лась|лось|лись|ав|ив|ів|ув|ыў|іў|аў|еў|є|ють|уть|ае|уе"
    r"|юць|уць|іць|аць|дзе|есть|нет|ёсць|няма)$"
)
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# Common verbs whose endings the pattern above cannot tell from a noun's: the Ukrainian present in -е
# ("бере участі": takes part, "каже": says) and the Belarusian one in -а/-э.
_CYRILLIC_VERBS = word_set("бере каже може хоче веде несе пише йде іде живе везе бярэ кажа можа хоча вязе")


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
        return (
            " — " in sentence
            or " – " in sentence
            or bool(_CYRILLIC_VERBS.intersection(lowered))
            or any(_CYRILLIC_VERB_RE.search(w) for w in lowered)
        )
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
