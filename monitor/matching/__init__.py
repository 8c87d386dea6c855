"""Claim matching: find the baseline claim a new sentence speaks to, and say whether it repeats,
updates or contradicts it, with the evidence.

    index = BaselineIndex.build(refs, encoders=Encoders.installed())   # or build_with_installed(refs)
    result = ClaimMatcher(index).match("Russia keeps about 10,000 troops in Belarus.")
    result.verdict, result.baseline, result.evidence
"""

from monitor.matching.encoders import NO_ENCODERS, Encoders
from monitor.matching.index import BaselineIndex
from monitor.matching.lexicon import Lexicon, LexiconError, default_lexicon, load_lexicon
from monitor.matching.matcher import DEFAULT_THRESHOLD, ClaimMatcher
from monitor.matching.model import BaselineClaimRef, Candidate, MatchResult, Verdict
from monitor.matching.normalize import ClaimAnalysis, analyze_claim, normalize_text

__all__ = [
    "DEFAULT_THRESHOLD",
    "NO_ENCODERS",
    "BaselineClaimRef",
    "BaselineIndex",
    "Candidate",
    "ClaimAnalysis",
    "ClaimMatcher",
    "Encoders",
    "Lexicon",
    "LexiconError",
    "MatchResult",
    "Verdict",
    "analyze_claim",
    "default_lexicon",
    "load_lexicon",
    "normalize_text",
]
