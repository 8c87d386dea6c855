"""The baseline corpus: reading reference articles, stripping page furniture, taking their claims.

`load_corpus` reads the bundled corpus (`corpus/index.toml` and the files it lists); `read_article` turns
the bytes of one article (HTML or plain text, from a file or a URL) into clean text for
`monitor baseline add`. Boilerplate is removed by general rules over paragraphs (calls to the reader,
picture credits, related-article lists, reader comments), never by line numbers or known sentences.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import Document

from monitor.errors import InputError
from monitor.text.claims import extract_claims, is_call_to_action, is_claim, is_comment_header, is_picture_credit
from monitor.text.decode import decode_text
from monitor.text.sentences import normalize_whitespace, split_paragraphs, split_sentences

__all__ = [
    "ArticleText",
    "BaselineFileError",
    "CorpusArticle",
    "load_corpus",
    "read_article",
    "strip_boilerplate",
]

DEFAULT_CORPUS_DIR = Path(__file__).parent / "corpus"
INDEX_FILE = "index.toml"


class BaselineFileError(InputError):
    """A baseline article or the corpus index cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class CorpusArticle:
    """One reference article of the baseline corpus, cleaned, with its claims in text order."""

    key: str
    title: str
    outlet: str
    published: date | None
    url: str | None
    body: str
    claims: tuple[str, ...]
    source_path: Path | None
    section: str | None = None


@dataclass(frozen=True)
class ArticleText:
    """The text of one article as read from a file or a page: body paragraphs separated by blank lines."""

    title: str | None
    body: str
    published: date | None
    url: str | None


# ---------------------------------------------------------------------------------------------------------
# Boilerplate


@dataclass(frozen=True)
class _Paragraph:
    text: str
    # Whether a blank line comes before it: a caption sits right above its picture credit.
    after_blank: bool


# The heading of a list of links to other articles.
_RELATED_HEADING_RE = re.compile(
    r"^(?:related|related\s+(?:articles|posts|stories|news|content|reading)|read\s+(?:also|more|next)"
    r"|more\s+(?:stories|articles|news|from\s+.{1,40})|(?:you|we)\s+(?:may|might)\s+also\s+like"
    r"|recommended(?:\s+for\s+you)?|see\s+also|further\s+reading|popular\s+(?:posts|articles)"
    r"|читайте\s+(?:также|тоже|ещё|еще)|по\s+теме|похожие\s+(?:статьи|новости|материалы)"
    r"|читайте\s+також|схожі\s+(?:новини|матеріали)|по\s+темі|чытайце\s+таксама|па\s+тэме)\s*(?::|\.\.\.|…)?$",
    re.IGNORECASE,
)
# Headings that open the reader comments (besides a commenter's header, see `is_comment_header`).
_COMMENT_SECTION_RE = re.compile(
    r"^(?:(?:reader\s+)?comments|leave\s+a\s+(?:comment|reply)|post\s+a\s+comment|add\s+a\s+comment"
    r"|\d+\s+(?:comments?|responses?|replies|thoughts?)(?:\s+(?:on|to)\s.*)?"
    r"|комментарии|коментарі|каментары|\d+\s+(?:комментари\w*|коментар\w*|каментар\w*)"
    r"|оставить\s+комментарий|залишити\s+коментар|пакінуць\s+каментар)\s*:?$",
    re.IGNORECASE,
)
# A picture caption is a short line; a longer one is prose that happens to precede a credit. A caption
# written as a sentence is shorter still: paragraphs of the article are longer.
_MAX_CAPTION_WORDS = 40
_MAX_SENTENCE_CAPTION_WORDS = 25
# Lines of a related-articles list: headlines and bylines, short and not prose.
_MAX_RELATED_ITEM_WORDS = 25


def _paragraphs(raw_text: str) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    for block in re.split(r"\n[^\S\n]*\n", raw_text.replace("\r\n", "\n").replace("\r", "\n")):
        for index, text in enumerate(split_paragraphs(block)):
            paragraphs.append(_Paragraph(text, after_blank=index == 0))
    return paragraphs


def _has_claim(text: str) -> bool:
    return any(is_claim(sentence) for sentence in split_sentences(text))


def _is_call_to_action_line(text: str) -> bool:
    # A line is a call to the reader when it asks something of the reader and asserts nothing else
    # ("You Won’t Get Anywhere Else What You Get From CDMedia! Donate!").
    sentences = split_sentences(text)
    return any(is_call_to_action(s) for s in sentences) and not any(is_claim(s) for s in sentences)


def _same_title(text: str, title: str | None) -> bool:
    return title is not None and _title_key(text) == _title_key(title)


def _title_key(text: str) -> str:
    return normalize_whitespace(text).casefold().rstrip(".!?:… ")


def _mark_furniture(paragraphs: list[_Paragraph], title: str | None) -> list[bool]:
    """Mark picture credits with their captions, calls to the reader and repeats of the title."""
    drop = [False] * len(paragraphs)
    # Where paragraphs are set apart by blank lines, a line glued to the credit is its caption. Where
    # every paragraph is a line of its own (extractor output), only a line that does not end like a
    # sentence is taken for one, or the paragraph before each credit would be lost.
    blank_separated = any(paragraph.after_blank for paragraph in paragraphs[1:])
    for index, paragraph in enumerate(paragraphs):
        if is_picture_credit(paragraph.text):
            drop[index] = True
            if index and not paragraph.after_blank and _is_caption(paragraphs[index - 1].text, blank_separated):
                drop[index - 1] = True
        elif _is_call_to_action_line(paragraph.text) or _same_title(paragraph.text, title):
            drop[index] = True
    return drop


def _is_caption(text: str, blank_separated: bool) -> bool:
    words = len(text.split())
    if not text.rstrip("\"'”’»)]").endswith((".", "!", "?", "…")):
        return words <= _MAX_CAPTION_WORDS
    return blank_separated and words <= _MAX_SENTENCE_CAPTION_WORDS


def _mark_related_lists(paragraphs: list[_Paragraph], drop: list[bool]) -> None:
    """Mark each related-articles heading and the headline and byline lines that follow it."""
    index = 0
    while index < len(paragraphs):
        if not _RELATED_HEADING_RE.match(paragraphs[index].text):
            index += 1
            continue
        drop[index] = True
        index += 1
        while index < len(paragraphs) and _is_list_item(paragraphs[index].text):
            drop[index] = True
            index += 1


def _is_list_item(text: str) -> bool:
    return len(text.split()) <= _MAX_RELATED_ITEM_WORDS and not _has_claim(text)


def _comment_section_start(paragraphs: list[_Paragraph], drop: list[bool]) -> int:
    """Index where reader comments begin, or the number of paragraphs when there are none.

    Only a marker after the first paragraph of prose counts: comments follow the article, while a
    "Leave a comment" link above it is page furniture, not the comment section.
    """
    body_started = False
    for index, paragraph in enumerate(paragraphs):
        if body_started and (_COMMENT_SECTION_RE.match(paragraph.text) or is_comment_header(paragraph.text)):
            return index
        if not drop[index] and _has_claim(paragraph.text):
            body_started = True
    return len(paragraphs)


def _header_length(paragraphs: list[_Paragraph], drop: list[bool]) -> int:
    """How many paragraphs precede the first one that asserts something (section names, title, byline).

    Text in which nothing reads as a claim (a script the claim filter does not know) has no header: it is
    kept whole, so the caller reports "no claims" rather than an empty article.
    """
    for index, paragraph in enumerate(paragraphs):
        if not drop[index] and _has_claim(paragraph.text):
            return index
    return 0


def _kept_paragraphs(raw_text: str, title: str | None) -> tuple[list[_Paragraph], list[_Paragraph]]:
    """Split `raw_text` into its header paragraphs and its kept body paragraphs."""
    paragraphs = _paragraphs(raw_text)
    drop = _mark_furniture(paragraphs, title)
    _mark_related_lists(paragraphs, drop)
    end = _comment_section_start(paragraphs, drop)
    start = _header_length(paragraphs, drop)
    header = [p for p, dropped in zip(paragraphs[:start], drop[:start], strict=True) if not dropped]
    body = [p for p, dropped in zip(paragraphs[start:end], drop[start:end], strict=True) if not dropped]
    return header, body


def strip_boilerplate(raw_text: str, *, title: str | None = None) -> str:
    """Return the article text of `raw_text` without page furniture, paragraphs separated by blank lines.

    Removed: the header above the first paragraph that asserts something (site sections, the title,
    captions), repeats of `title`, calls to share/follow/subscribe/donate/sign up/comment, picture
    credits with their captions, related-article lists, and everything from the reader comments on.
    """
    _, body = _kept_paragraphs(raw_text, title)
    return "\n\n".join(paragraph.text for paragraph in body)


def _guess_title(header: Iterable[_Paragraph]) -> str | None:
    # Site sections above the title are one to three words ("Tsarizm", "Eastern Europe"); the title is
    # the first longer line of the header that is neither a credit nor a call to the reader.
    candidates = [p.text for p in header if not is_picture_credit(p.text)]
    candidates = [text for text in candidates if not is_call_to_action(text)]
    return next((text for text in candidates if len(text.split()) >= 4), None) or next(iter(candidates), None)


# ---------------------------------------------------------------------------------------------------------
# Bytes to text

_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"\x7fELF")
_HTML_SNIFF_RE = re.compile(r"<(?:!doctype\s+html|html|head|body|article|main|p|div|title|meta)\b", re.I)
# Text with more control characters than this share is not an article but binary data.
_MAX_CONTROL_SHARE = 0.01


def _decode(data: bytes, *, source: str, content_type: str | None) -> str:
    """Decode article bytes as `monitor.text.decode` does every page, refusing what is no article text."""
    if not data.strip():
        raise BaselineFileError(f"{source}: the file is empty")
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and (
        data.startswith(_BINARY_SIGNATURES) or b"\x00" in data
    ):
        raise BaselineFileError(f"{source}: binary content, not an article's text or HTML")
    text = decode_text(data, content_type)
    if text is None:
        raise BaselineFileError(f"{source}: cannot decode the text (not UTF-8 and no usable charset)")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise BaselineFileError(f"{source}: binary content, not an article's text or HTML")
    if not text.strip():
        raise BaselineFileError(f"{source}: the file is empty")
    return text


def _is_html(text: str, content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type:
        if "html" in media_type or media_type.endswith("xml"):
            return True
        if media_type.startswith("text/"):
            return False
    return bool(_HTML_SNIFF_RE.search(text[:4096]))


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _read_html(html: str, *, source: str) -> ArticleText:
    url = source if source.startswith(("http://", "https://")) else None
    # Comments stay out: reader comments must never become baseline claims.
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, as_dict=False
    )
    if not isinstance(document, Document) or not (document.text or "").strip():
        raise BaselineFileError(f"{source}: no article text could be extracted from the HTML")
    title = normalize_whitespace(document.title or "") or None
    body = strip_boilerplate(document.text or "", title=title)
    if not body:
        raise BaselineFileError(f"{source}: no article text left once boilerplate was removed")
    return ArticleText(title=title, body=body, published=_parse_date(document.date), url=document.url or url)


def read_article(data: bytes, *, source: str, content_type: str | None = None) -> ArticleText:
    """Read one article from `data` (HTML or plain text) fetched or read from `source`.

    HTML goes through trafilatura (text, title, date, canonical address); plain text through
    `strip_boilerplate`, its title taken from the header lines. Raises `BaselineFileError` naming
    `source` for empty, binary or undecodable input, or when no article text is left.
    """
    text = _decode(data, source=source, content_type=content_type)
    if _is_html(text, content_type):
        return _read_html(text, source=source)
    header, body = _kept_paragraphs(text, None)
    if not body:
        raise BaselineFileError(f"{source}: no article text left once boilerplate was removed")
    title = _guess_title(header)
    clean_body = "\n\n".join(paragraph.text for paragraph in body if not _same_title(paragraph.text, title))
    return ArticleText(title=title, body=clean_body, published=None, url=None)


# ---------------------------------------------------------------------------------------------------------
# The corpus

_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


def _required_text(entry: Mapping[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BaselineFileError(f"{where}: missing or empty {field!r}")
    return value.strip()


def _optional_text(entry: Mapping[str, Any], field: str, where: str) -> str | None:
    value = entry.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BaselineFileError(f"{where}: {field!r} must be a string")
    return value.strip() or None


def _published(entry: Mapping[str, Any], where: str) -> date | None:
    value = entry.get("published")
    if value is None:
        return None
    # TOML has a date type (published = 2022-03-01); a quoted "2022-03-01" is accepted as well.
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BaselineFileError(f"{where}: bad 'published' date {value!r} (expected YYYY-MM-DD)")


def _read_index(index_path: Path) -> list[Mapping[str, Any]]:
    try:
        index = tomllib.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineFileError(f"{index_path}: the corpus index is missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BaselineFileError(f"{index_path}: not a valid TOML file ({error})") from None
    entries = index.get("article", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise BaselineFileError(f"{index_path}: 'article' must be a list of [[article]] tables")
    return entries


def _load_entry(entry: Mapping[str, Any], *, corpus_dir: Path, where: str) -> CorpusArticle:
    file_name = _required_text(entry, "file", where)
    title = _required_text(entry, "title", where)
    outlet = _required_text(entry, "outlet", where)
    published = _published(entry, where)
    path = corpus_dir / file_name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BaselineFileError(f"{where}: the file {file_name!r} does not exist in {corpus_dir}") from None
    except OSError as error:
        raise BaselineFileError(f"{path}: cannot read the file ({error.strerror})") from None
    if path.suffix.lower() in _HTML_SUFFIXES:
        article = read_article(data, source=str(path), content_type="text/html")
        body, url = article.body, _optional_text(entry, "url", where) or article.url
    else:
        body = strip_boilerplate(_decode(data, source=str(path), content_type=None), title=title)
        url = _optional_text(entry, "url", where)
    claims = tuple(extract_claims(body))
    if not claims:
        raise BaselineFileError(f"{path}: no checkable claims found in the article text")
    return CorpusArticle(
        key=path.stem,
        title=title,
        outlet=outlet,
        published=published,
        url=url,
        body=body,
        claims=claims,
        source_path=path,
        section=_optional_text(entry, "section", where),
    )


def load_corpus(corpus_dir: Path | None = None) -> list[CorpusArticle]:
    """Load every article listed in `corpus_dir/index.toml` (default: the bundled corpus), in index order.

    Raises `BaselineFileError` for a missing or malformed index, a missing metadata field, a bad date,
    a listed file that is missing, empty, binary or undecodable, or an article with no claims.
    """
    directory = corpus_dir if corpus_dir is not None else DEFAULT_CORPUS_DIR
    index_path = directory / INDEX_FILE
    articles: list[CorpusArticle] = []
    seen: set[str] = set()
    for number, entry in enumerate(_read_index(index_path), start=1):
        where = f"{index_path} (article {number})"
        article = _load_entry(entry, corpus_dir=directory, where=where)
        if article.key in seen:
            raise BaselineFileError(f"{where}: {article.key!r} is listed twice")
        seen.add(article.key)
        articles.append(article)
    return articles
