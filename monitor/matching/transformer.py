"""The parts of a BERT-style transformer layer that both numpy sentence encoders share: the layer's
weights and the layer norm (`encoder` for MiniLM, `e5_numpy` for multilingual-e5; their forward passes
differ)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

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


Linear = tuple[Matrix, Matrix]  # a linear map's weight, stored (in, out), and its bias


def fused_layer(
    attention: tuple[Linear, Linear, Linear], out: Linear, up: Linear, down: Linear, norm1: Linear, norm2: Linear
) -> TransformerLayer:
    """A layer from its linear maps (query, key and value fused into one) and its two layer norms."""
    return TransformerLayer(
        qkv=np.ascontiguousarray(np.concatenate([weight for weight, _ in attention], axis=1)),
        qkv_bias=np.concatenate([bias for _, bias in attention]),
        out=out[0],
        out_bias=out[1],
        norm1=norm1,
        up=up[0],
        up_bias=up[1],
        down=down[0],
        down_bias=down[1],
        norm2=norm2,
    )


def layer_norm(x: Matrix, weights: tuple[Matrix, Matrix], eps: float) -> Matrix:
    """Layer norm of the rows of `x` (2-D), reusing `x`'s buffer: the caller no longer needs it."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[-1])
    x *= np.float32(1.0) / np.sqrt(variance + np.float32(eps))
    x *= weights[0]
    x += weights[1]
    return x


def layer_arrays(number: int, layer: TransformerLayer) -> dict[str, Matrix]:
    """A layer's weights by name ("3.qkv", "3.norm1.0"), as `encoder_cache.mapped_arrays` keeps them."""
    arrays: dict[str, Matrix] = {}
    for part in fields(TransformerLayer):
        value = getattr(layer, part.name)
        if isinstance(value, tuple):
            arrays.update({f"{number}.{part.name}.{i}": item for i, item in enumerate(value)})
        else:
            arrays[f"{number}.{part.name}"] = value
    return arrays


def layers_from_arrays(arrays: Mapping[str, Matrix], count: int) -> list[TransformerLayer]:
    """The `count` layers that `layer_arrays` named."""
    layers = []
    for number in range(count):
        values: dict[str, object] = {}
        for part in fields(TransformerLayer):
            name = f"{number}.{part.name}"
            values[part.name] = (arrays[f"{name}.0"], arrays[f"{name}.1"]) if f"{name}.0" in arrays else arrays[name]
        layers.append(TransformerLayer(**values))  # type: ignore[arg-type]
    return layers
