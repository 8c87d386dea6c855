"""What the sentence encoders derive once and keep on disk between processes: their weights prepared for
the forward pass (mapped, so processes share them), and the vectors of texts they have encoded.

Both live under the user's cache directory (`$XDG_CACHE_HOME/claim-monitor`, else `~/.cache/claim-monitor`)
and are keyed by the model archive's CRC, so a new model version never reads an old model's files. Both
are optional: a cache that cannot be read or written is skipped (logged at debug level) and the encoder
computes what it needs, as it would the first time.

- The prepared weights (float32, in the layout the forward pass reads: about 90 MB for MiniLM, 85 MB for
  e5) are kept in one file per model and memory-mapped read-only (`mapped_arrays`): the crawl's analyzer
  processes then share one copy in the page cache instead of each holding its own. Preparing them (the
  zip inflated, e5 dequantised) takes a second or two, once; mapping them, a few ms.
- Encoding costs about 10 ms a sentence; the baseline's claims are the same at every `monitor check` and
  every service start, so their vectors are kept in a SQLite file (WAL: the crawl's worker processes
  read and write it at once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

LOG = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]


def cache_root() -> Path:
    """The directory Claim Monitor keeps derived, re-creatable files in."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claim-monitor"


# The prepared-weights file: MAGIC, the length of a JSON directory ({name: [offset, shape]} and the data
# size), the directory, then each array's float32 data at an offset aligned to ALIGNMENT bytes.
WEIGHTS_MAGIC = b"CMW1"
ALIGNMENT = 64
# Part of the file's name: raise it when what a file holds changes (the arrays' names or layout).
PREPARED_VERSION = 1


def mapped_arrays(key: str, build: Callable[[], Mapping[str, Matrix]]) -> dict[str, Matrix]:
    """The float32 arrays `build` makes, from a file under `cache_root()` named by `key`, memory-mapped
    read-only: every process mapping it shares its pages, where arrays built in each process would be a
    private copy each. The file is written (aside, then renamed) the first time; a damaged one is rebuilt.
    Where the cache cannot be written, the built arrays are returned as they are."""
    path = cache_root() / f"{key}-p{PREPARED_VERSION}.weights"
    try:
        return _map_weights(path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        LOG.debug("rebuilding damaged prepared weights %s: %s", path, exc)
    arrays = {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in build().items()}
    try:
        _write_weights(path, arrays)
        return _map_weights(path)
    except (OSError, ValueError) as exc:
        LOG.debug("cannot keep prepared weights in %s: %s", path.parent, exc)
        return arrays


def _data_start(header_length: int) -> int:
    """Where the arrays begin: after MAGIC, the header's length and the header, aligned."""
    return -(-(len(WEIGHTS_MAGIC) + 4 + header_length) // ALIGNMENT) * ALIGNMENT


def _write_weights(path: Path, arrays: Mapping[str, Matrix]) -> None:
    offsets: dict[str, int] = {}
    size = 0
    for name, array in arrays.items():
        offsets[name] = size
        size += -(-array.nbytes // ALIGNMENT) * ALIGNMENT
    directory = {name: [offsets[name], list(array.shape)] for name, array in arrays.items()}
    header = json.dumps({"arrays": directory, "size": size}).encode()
    start = _data_start(len(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".preparing-", delete=False) as handle:
        handle.write(WEIGHTS_MAGIC + struct.pack("<I", len(header)) + header)
        for name, array in arrays.items():
            handle.seek(start + offsets[name])
            handle.write(array.tobytes())
        handle.truncate(start + size)
    os.replace(handle.name, path)


def _map_weights(path: Path) -> dict[str, Matrix]:
    with path.open("rb") as handle:  # the mapping outlives the descriptor
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if data[: len(WEIGHTS_MAGIC)] != WEIGHTS_MAGIC:
        raise ValueError("not a prepared-weights file")
    (length,) = struct.unpack_from("<I", data, len(WEIGHTS_MAGIC))
    header = json.loads(bytes(data[len(WEIGHTS_MAGIC) + 4 : len(WEIGHTS_MAGIC) + 4 + length]))
    start = _data_start(length)
    if len(data) != start + int(header["size"]):
        raise ValueError(f"size {len(data)}, expected {start + int(header['size'])}")
    arrays: dict[str, Matrix] = {}
    for name, (offset, shape) in header["arrays"].items():
        count = int(np.prod(shape)) if shape else 1
        arrays[name] = np.frombuffer(data, dtype="<f4", count=count, offset=start + int(offset)).reshape(shape)
    return arrays


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
