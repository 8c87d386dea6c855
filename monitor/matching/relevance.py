"""How likely it is that a candidate is the baseline claim a new claim speaks to: a calibrated probability.

The ranking score (`scoring.combine`) orders one claim's candidates; it says little about whether the
best of them is a match at all, because every sentence on this beat is close to some baseline claim in
words and in vectors ("Belarus." and "The weather in Minsk was sunny" included). What tells a match from
a neighbour, measured on dev, is evidence beyond the beat's own vocabulary and parts that agree:
- `multilingual`, `english`: the two encoders' cosines, as absolute values (a paraphrase is close in both);
- `lexical`: the lexical score of the best unit;
- `specific`: the weight of the shared terms that are not the beat's common words (Belarus, Russia,
  troops, war... see `index.BaselineIndex.specific_weight`), in rare-word equivalents;
- `query_specific`: how much the new claim says beyond those words at all;
- `novelty`: the share of the new claim's words the baseline never uses (a sentence about potash,
  elections or sport is mostly such words);
- `margin`: how far the candidate leads the next one on the ranking score;
- `conflicts`: how many parts disagree (`alignment`);
- `cyrillic`: the claim is Russian, Ukrainian or Belarusian (no lexical bridge to the English baseline
  but names, so the same evidence weighs differently).
A logistic model over them is fitted on dev (`bench/fit_relevance.py`, cross-validated by leaving one
sentence out) for each set of encoders the matcher can run with; its coefficients, the threshold and the
precision measured at that threshold are in `relevance.toml`. The score a user sees is that probability,
x100, so a threshold states a precision.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

# Every signal the models can use, in a fixed order (a model names the ones it uses).
FEATURES = (
    "multilingual",
    "english",
    "lexical",
    "specific",
    "query_specific",
    "novelty",
    "margin",
    "conflicts",
    "cyrillic",
)
# The model of a configuration for Russian, Ukrainian and Belarusian claims is named with this suffix.
CYRILLIC_SUFFIX = "/cyrillic"
# Shared specific weight counts up to this many rare-word equivalents; a claim's own, up to QUERY_CAP.
SPECIFIC_CAP = 2.0
QUERY_CAP = 3.0
# Margins are in ranking-score points; beyond this lead, more says nothing new.
MARGIN_CAP = 10.0
# The range of each feature as the model reads it (`RelevanceSignals.values`): what `highest_probability`
# takes for a feature not yet known.
FEATURE_RANGES = {
    "multilingual": (-1.0, 1.0),
    "english": (-1.0, 1.0),
    "lexical": (0.0, 1.0),
    "specific": (0.0, 1.0),
    "query_specific": (0.0, 1.0),
    "novelty": (0.0, 1.0),
    "margin": (-1.0, 1.0),
    "conflicts": (0.0, 2.0),
    "cyrillic": (0.0, 1.0),
}


@dataclass(frozen=True)
class RelevanceSignals:
    """What the model reads of one (new claim, candidate) pair."""

    multilingual: float | None
    english: float | None
    lexical: float
    specific: float  # shared weight beyond the beat's vocabulary, in rare-word equivalents
    query_specific: float  # the claim's own weight beyond it
    novelty: float  # share of the claim's content terms the baseline never uses (0-1)
    margin: float  # ranking-score lead over the best other candidate (negative when behind)
    conflicts: int
    cyrillic: bool

    def values(self) -> dict[str, float]:
        """Each feature as the model reads it (capped, missing cosines as 0)."""
        return {
            "multilingual": self.multilingual or 0.0,
            "english": self.english or 0.0,
            "lexical": self.lexical,
            "specific": min(self.specific, SPECIFIC_CAP) / SPECIFIC_CAP,
            "query_specific": min(self.query_specific, QUERY_CAP) / QUERY_CAP,
            "novelty": self.novelty,
            "margin": max(-MARGIN_CAP, min(self.margin, MARGIN_CAP)) / MARGIN_CAP,
            "conflicts": float(min(self.conflicts, 2)),
            "cyrillic": float(self.cyrillic),
        }


@dataclass(frozen=True)
class RelevanceModel:
    """A fitted logistic model: standardised features, weights, bias; the threshold (a probability, 0-1)
    below which a match is not reported, and the one above which it is called likely."""

    configuration: str
    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    likely: float
    measured: dict[str, Any] = field(default_factory=dict)  # what the fit measured (for docs and checks)

    def named(self, configuration: str) -> RelevanceModel:
        return replace(self, configuration=configuration)

    def probability(self, signals: RelevanceSignals) -> float:
        return self._of_values(signals.values())

    def highest_probability(self, known: dict[str, float]) -> float:
        """The highest probability a pair can have whose `known` features (as the model reads them, see
        `RelevanceSignals.values`) are these: every other feature the model reads is taken at the end of
        its range (`FEATURE_RANGES`) that raises the probability most. What a signal not yet computed
        could at most make of a pair."""
        extremes = {
            name: FEATURE_RANGES[name][1 if weight > 0 else 0]
            for name, weight in zip(self.features, self.weights, strict=True)
            if name not in known
        }
        return self._of_values({**known, **extremes})

    def _of_values(self, values: dict[str, float]) -> float:
        """The probability of features as the model reads them (`RelevanceSignals.values`)."""
        z = self.bias
        for name, mean, scale, weight in zip(self.features, self.means, self.scales, self.weights, strict=True):
            z += weight * (values[name] - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def as_toml(self) -> str:
        """The model as a `relevance.toml` table (what `bench/fit_relevance.py` writes)."""

        def floats(values: tuple[float, ...]) -> str:
            return "[" + ", ".join(f"{value:.6g}" for value in values) + "]"

        lines = [
            f'[model."{self.configuration}"]',
            "features = [" + ", ".join(f'"{name}"' for name in self.features) + "]",
            f"means = {floats(self.means)}",
            f"scales = {floats(self.scales)}",
            f"weights = {floats(self.weights)}",
            f"bias = {self.bias:.6g}",
            f"threshold = {self.threshold:.3f}",
            f"likely = {self.likely:.3f}",
        ]
        if self.measured:
            pairs = ", ".join(f"{key} = {_toml_value(value)}" for key, value in self.measured.items())
            lines.append(f"measured = {{ {pairs} }}")
        return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _model(configuration: str, table: dict[str, Any]) -> RelevanceModel:
    features = tuple(table["features"])
    unknown = [name for name in features if name not in FEATURES]
    if unknown or not (len(features) == len(table["means"]) == len(table["scales"]) == len(table["weights"])):
        raise ValueError(f"relevance.toml: model {configuration!r} is malformed (features {unknown or features})")
    return RelevanceModel(
        configuration,
        features,
        tuple(float(v) for v in table["means"]),
        tuple(float(v) for v in table["scales"]),
        tuple(float(v) for v in table["weights"]),
        float(table["bias"]),
        float(table["threshold"]),
        float(table["likely"]),
        dict(table.get("measured", {})),
    )


@lru_cache(maxsize=1)
def bundled_models() -> dict[str, RelevanceModel]:
    """The fitted models in the bundled `relevance.toml`, by configuration ("e5+minilm", "lexical"...)."""
    text = resources.files("monitor.matching").joinpath("relevance.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {name: _model(name, table) for name, table in data.get("model", {}).items()}


def confidence_label(probability: float, model: RelevanceModel) -> str:
    """The label of a reported match (at or above the threshold): "likely" or "possible", in the model's terms."""
    return "likely" if probability >= model.likely else "possible"
