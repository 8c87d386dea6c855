"""Why a claim matched a baseline claim: one typed `Evidence`, and the one place it is put into words.

The matcher still builds the evidence as a JSON-ready dict (`verdict.decide`, `ClaimMatcher._decide`) and
stores it in `Match.evidence`; every reader (email, Slack, the digest, the web pages, `monitor check`,
`monitor matches`) turns it into an `Evidence` with `from_json` and uses `lines()` for the words and
`marks()` for the phrases to highlight, so the same evidence reads the same everywhere.

`from_json` is tolerant: a missing key takes its default, a malformed value is dropped, an older spelling
(`negation`, `antonyms`, `refutation`) is read as today's, and a key this module does not know is kept in
`extra` (and shown as `key: value`), so evidence the matcher learns to record later is never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Side = Literal["new", "baseline"]
MarkKind = Literal["figure", "flip"]

FIGURE: MarkKind = "figure"
FLIP: MarkKind = "flip"

# What the calibrated relevance model's two labels mean (monitor/matching/relevance.toml: `likely` is the
# lowest probability at which cross-validated precision reached 0.95; every reported match is above the
# threshold, chosen for recall).
CONFIDENCE_WORDS = {
    "likely": "likely match: at this score about 19 in 20 matches were right when the matcher was measured",
    "possible": "possible match: above the alert threshold but below the 'likely' range; check it by reading both",
}
SCORE_MEANING = (
    "The score (0-100) is how sure the matcher is that the two sentences state the same thing; "
    "“likely” matches were right about 19 times in 20 when measured, “possible” ones need a reader's check."
)

_ALIASES = {"negation": "negated", "antonyms": "antonym", "refutation": "refuted"}


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
        return str(value)
    return None


def _pair(value: Any) -> tuple[str, str] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        first, second = _text(value[0]), _text(value[1])
        if first is not None and second is not None:
            return first, second
    return None


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(pair for pair in map(_pair, value) if pair is not None)


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if not isinstance(value, list | tuple):
        return ()
    return tuple(text for text in map(_text, value) if text is not None)


def _side(value: Any) -> Side | None:
    return value if value in ("new", "baseline") else None


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={_plain(item)}" for key, item in value.items())
    return str(value)


def _quoted(value: str) -> str:
    return f"“{value}”"


_SIDE_NAMES = {"new": "the new sentence", "baseline": "the baseline claim"}


@dataclass(frozen=True)
class Evidence:
    """The evidence of one verdict. Every field is optional: each verdict records only what it found.

    - `shared_terms`: the baseline's words the two claims share, rarest first.
    - `carried_by`: (new word, baseline word) pairs that carried the match across wording or language.
    - `changed`: (baseline figure, new figure) pairs that differ (an "updated" verdict).
    - `status`: (baseline wording, new wording) where the status moved on.
    - `antonym`: (baseline word, new word) of opposite meaning.
    - `negated` / `negated_in`: the negation cue and the side it sits on; `refuted` / `refuted_in` alike.
    - `rule`: a sentence naming the rule that decided, when one did.
    - `conflicts`: what in the new claim speaks against the match.
    - `matched_clause`: the clause of the baseline claim that matched, when it was one clause.
    - `context`: the sentence before, whose subject a pronoun in the new claim borrowed.
    - `confidence`: the calibrated model's label, "likely" or "possible".
    - `reason`: why there is no verdict ("none"), in words.
    - `extra`: every other key, as stored.
    """

    shared_terms: tuple[str, ...] = ()
    carried_by: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str], ...] = ()
    status: tuple[str, str] | None = None
    antonym: tuple[str, str] | None = None
    negated: str | None = None
    negated_in: Side | None = None
    refuted: str | None = None
    refuted_in: Side | None = None
    rule: str | None = None
    conflicts: tuple[str, ...] = ()
    matched_clause: str | None = None
    context: str | None = None
    confidence: str | None = None
    reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Evidence:
        """The evidence stored as JSON (any age, any shape): never raises on a malformed entry."""
        if isinstance(data, Evidence):
            return data
        if not isinstance(data, Mapping):
            return cls()
        values = {_ALIASES.get(key, key): value for key, value in data.items() if isinstance(key, str)}
        antonym = values.get("antonym")
        known = {
            "shared_terms",
            "carried_by",
            "changed",
            "status",
            "antonym",
            "negated",
            "negated_in",
            "refuted",
            "refuted_in",
            "rule",
            "conflicts",
            "matched_clause",
            "context",
            "confidence",
            "reason",
        }
        extra = {key: value for key, value in values.items() if key not in known and value not in (None, "", [], {})}
        negated = values.get("negated")
        refuted = values.get("refuted")
        return cls(
            shared_terms=_texts(values.get("shared_terms")),
            carried_by=_pairs(values.get("carried_by")),
            changed=_pairs(values.get("changed")),
            status=_pair(values.get("status")),
            antonym=_pair(antonym),
            negated=", ".join(_texts(negated)) or None,
            negated_in=_side(values.get("negated_in")),
            refuted=", ".join(_texts(refuted)) or None,
            refuted_in=_side(values.get("refuted_in")),
            rule=_text(values.get("rule")),
            conflicts=_texts(values.get("conflicts")),
            matched_clause=_text(values.get("matched_clause")),
            context=_text(values.get("context")),
            confidence=_text(values.get("confidence")),
            reason=_text(values.get("reason")),
            extra=MappingProxyType(extra),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON dict the matcher writes: empty fields left out, `extra` kept as it came."""
        data: dict[str, Any] = {}
        if self.shared_terms:
            data["shared_terms"] = list(self.shared_terms)
        if self.carried_by:
            data["carried_by"] = [list(pair) for pair in self.carried_by]
        if self.changed:
            data["changed"] = [list(pair) for pair in self.changed]
        for name in ("status", "antonym"):
            pair = getattr(self, name)
            if pair is not None:
                data[name] = list(pair)
        for name in (
            "negated",
            "negated_in",
            "refuted",
            "refuted_in",
            "rule",
            "matched_clause",
            "context",
            "confidence",
            "reason",
        ):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.conflicts:
            data["conflicts"] = list(self.conflicts)
        data.update(self.extra)
        return data

    def confidence_words(self) -> str | None:
        """What the confidence label means, in a sentence; None when there is none."""
        if self.confidence is None:
            return None
        return CONFIDENCE_WORDS.get(self.confidence, f"{self.confidence} match")

    def lines(self, *, with_shared: bool = True) -> list[str]:
        """The evidence in words, one finding a line, the deciding findings first and the shared words
        last. This is the only place evidence becomes words: every channel and page shows these lines
        (escaped for its medium)."""
        lines: list[str] = []
        confidence = self.confidence_words()
        if confidence:
            lines.append(confidence)
        if self.negated:
            side = f" in {_SIDE_NAMES[self.negated_in]}" if self.negated_in else ""
            lines.append(f"negation{side}: {_quoted(self.negated)}")
        if self.refuted:
            side = f" in {_SIDE_NAMES[self.refuted_in]}" if self.refuted_in else ""
            lines.append(f"refutation{side}: {_quoted(self.refuted)}")
        if self.antonym:
            lines.append(f"opposite words: {self.antonym[0]} -> {self.antonym[1]}")
        lines.extend(f"figure changed: {old} -> {new}" for old, new in self.changed)
        if self.status:
            lines.append(f"status moved on: {self.status[0]} -> {self.status[1]}")
        if self.rule:
            lines.append(self.rule)
        lines.extend(f"but the new claim {conflict}" for conflict in self.conflicts)
        if self.matched_clause:
            lines.append(f"matched the clause: {_quoted(self.matched_clause)}")
        if self.context:
            lines.append(f"subject taken from the sentence before: {_quoted(self.context)}")
        if self.reason:
            lines.append(self.reason)
        lines.extend(f"{key.replace('_', ' ')}: {_plain(value)}" for key, value in self.extra.items())
        if self.carried_by:
            lines.append("carried by: " + ", ".join(f"{new} = {old}" for new, old in self.carried_by))
        if with_shared and self.shared_terms:
            lines.append("words in common: " + ", ".join(self.shared_terms))
        return lines

    def summary(self) -> str:
        """The lines joined in one sentence, for a table cell or a terminal."""
        return "; ".join(self.lines()) or "same proposition"

    def marks(self) -> tuple[list[tuple[str, MarkKind]], list[tuple[str, MarkKind]]]:
        """The phrases to highlight in (the new sentence, the baseline claim), each with its kind."""
        new: list[tuple[str, MarkKind]] = []
        baseline: list[tuple[str, MarkKind]] = []
        for old_value, new_value in self.changed:
            baseline.append((old_value, FIGURE))
            new.append((new_value, FIGURE))
        for pair in (self.status, self.antonym):
            if pair is not None:
                baseline.append((pair[0], FLIP))
                new.append((pair[1], FLIP))
        for phrase, side in ((self.negated, self.negated_in), (self.refuted, self.refuted_in)):
            if phrase:
                (baseline if side == "baseline" else new).append((phrase, FLIP))
        return new, baseline
