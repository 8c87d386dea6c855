"""Lists of known claims for `monitor baseline add --claims FILE`: one claim a line, or JSON lines.

A JSON line is an object with `claim` (required) and optional `id`, `source` and `published`
(YYYY-MM-DD). Blank lines are skipped. A file may mix both forms.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import InputError

MAX_LINE_CHARS = 1_000_000


class ClaimsFileError(InputError):
    """A claims file that cannot be read, or a bad line in it; the message names the file and line."""


@dataclass(frozen=True)
class ImportedClaim:
    """One known claim from a claims file."""

    text: str
    external_id: str | None = None
    source: str | None = None
    published: datetime.date | None = None


def _optional_text(value: Any, key: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ClaimsFileError(f"{where}: `{key}` must be a string")
    return str(value).strip() or None


def _parse_json_line(line: str, where: str) -> ImportedClaim:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ClaimsFileError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ClaimsFileError(f"{where}: a JSON line must be an object with a `claim`")
    claim = data.get("claim")
    if not isinstance(claim, str) or not claim.strip():
        raise ClaimsFileError(f"{where}: `claim` is missing or empty")
    published_text = _optional_text(data.get("published"), "published", where)
    published = None
    if published_text:
        try:
            published = datetime.date.fromisoformat(published_text[:10])
        except ValueError:
            raise ClaimsFileError(f"{where}: `published` must be a date, YYYY-MM-DD") from None
    return ImportedClaim(
        text=" ".join(claim.split()),
        external_id=_optional_text(data.get("id"), "id", where),
        source=_optional_text(data.get("source"), "source", where),
        published=published,
    )


def read_claims_file(path: Path) -> list[ImportedClaim]:
    """The claims in `path`, in file order. Raises `ClaimsFileError` naming the file (and line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ClaimsFileError(f"{path}: cannot read the claims file: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise ClaimsFileError(f"{path}: this is a binary file, not a list of claims")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClaimsFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    claims: list[ImportedClaim] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{path}, line {number}"
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped) > MAX_LINE_CHARS:
            raise ClaimsFileError(f"{where}: the line is longer than {MAX_LINE_CHARS:,} characters")
        if stripped.startswith("{"):
            claims.append(_parse_json_line(stripped, where))
        else:
            claims.append(ImportedClaim(text=" ".join(stripped.split())))
    return claims
