"""The parts of a BERT-style transformer layer that both numpy sentence encoders share: the layer's
weights and the layer norm (`encoder` for MiniLM, `e5_numpy` for multilingual-e5; their forward passes
differ)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class TransformerLayer:
    """One transformer layer's weights, linear maps stored (in, out) so `x @ w` needs no transpose."""

    qkv: Matrix  # (D, 3D): query, key and value projections fused into one matmul
    qkv_bias: Matrix
    out: Matrix
    out_bias: Matrix
    norm1: tuple[Matrix, Matrix]
    up: Matrix
    up_bias: Matrix
    down: Matrix
    down_bias: Matrix
    norm2: tuple[Matrix, Matrix]


def layer_norm(x: Matrix, weights: tuple[Matrix, Matrix], eps: float) -> Matrix:
    """Layer norm of the rows of `x` (2-D), reusing `x`'s buffer: the caller no longer needs it."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[-1])
    x *= np.float32(1.0) / np.sqrt(variance + np.float32(eps))
    x *= weights[0]
    x += weights[1]
    return x
