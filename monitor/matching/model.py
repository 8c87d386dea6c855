"""The matcher's plain data: baseline claims in, candidates and match results out."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["repeated", "updated", "contradicted", "none"]
VERDICTS: tuple[Verdict, ...] = ("repeated", "updated", "contradicted", "none")


@dataclass(frozen=True)
class BaselineClaimRef:
    """A baseline claim as the matcher sees it: its id, text, and where it comes from."""

    claim_id: int
    text: str
    article: str | None = None  # article title (or source for imported claims)
    published: datetime.date | None = None
    external_id: str | None = None  # id given by an imported claim list


@dataclass(frozen=True)
class Candidate:
    """A baseline claim with its match score (0-100) for one new claim."""

    ref: BaselineClaimRef
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher says about one new claim: the verdict, the best baseline claim, and why."""

    text: str
    verdict: Verdict
    score: float  # 0-100
    baseline: BaselineClaimRef | None  # best candidate, or None where nothing is close
    evidence: dict[str, Any]  # JSON-serialisable
    candidates: tuple[Candidate, ...]  # best first
