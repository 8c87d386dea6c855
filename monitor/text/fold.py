"""Case- and diacritic-insensitive folding shared by watch terms, deduplication and matching keys."""

import unicodedata

# Letters whose diacritic makes a different letter in Cyrillic; folding them would merge distinct words.
_KEEP_MARKS = {"й", "ё", "ї", "ў", "Й", "Ё", "Ї", "Ў"}


def fold(text: str) -> str:
    """NFKC, casefold, and drop combining marks of Latin letters ("Lukašenka" -> "lukasenka")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for char in text:
        if char in _KEEP_MARKS or char.isascii():
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return unicodedata.normalize("NFC", "".join(out))
