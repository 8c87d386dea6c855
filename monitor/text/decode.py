"""Bytes to text: the one way Claim Monitor finds the encoding of a page or a file.

The crawler's pages and the baseline's files go through the same steps, in this order:

1. a byte-order mark, which is authoritative;
2. UTF-8, when the bytes are valid UTF-8: valid UTF-8 with non-ASCII bytes is next to never anything
   else, while a single-byte charset decodes any bytes, so a page mislabelled as windows-1251 or
   ISO-8859-1 is not read as mojibake;
3. the charset declared by the `Content-Type` header, then by a `<meta>` tag, when it decodes cleanly;
4. detection from the bytes (windows-1251, KOI8-R, ... pages often declare nothing).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

__all__ = ["decode_html", "decode_text"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# A `<meta charset>` is looked for in this much of the body (it belongs in the head).
_META_BYTES = 8192
# Encoding detection looks at this much of the body: enough text to tell windows-1251 from KOI8-R.
_SNIFF_BYTES = 64 * 1024


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _decode_strict(body: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """The known codecs that the `Content-Type` header and then a `<meta>` tag declare, in that order."""
    header = _HEADER_CHARSET_RE.search(content_type or "")
    meta = _META_CHARSET_RE.search(body[:_META_BYTES])
    names = [
        _codec(header.group(1) if header else None),
        _codec(meta.group(1).decode("ascii", "ignore") if meta else None),
    ]
    return [name for name in names if name is not None]


def decode_text(body: bytes, content_type: str | None = None) -> str | None:
    """The body as text, by the steps in the module docstring; None when no step finds an encoding."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    for candidate in ("utf-8", *_declared_encodings(body, content_type)):
        decoded = _decode_strict(body, candidate)
        if decoded is not None:
            return decoded
    best = charset_normalizer.from_bytes(body[:_SNIFF_BYTES]).best()
    return body.decode(best.encoding, errors="replace") if best is not None else None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """`decode_text` that never gives up: a body no step can read is decoded as it declares itself (else
    windows-1252), with replacement characters, so a crawl always has a page to look at."""
    text = decode_text(body, content_type)
    if text is not None:
        return text
    fallback = next(iter(_declared_encodings(body, content_type)), "windows-1252")
    return body.decode(fallback, errors="replace")
