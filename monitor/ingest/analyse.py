"""Analysis: watch terms, claims and matches of an article, with no database (it runs in worker
processes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.catalog.baseline_store import baseline_refs
from monitor.ingest.dedup import TextFingerprint
from monitor.ingest.model import IncomingArticle
from monitor.ingest.screen import WatchTermMatcher, WatchTermScreen
from monitor.matching import BaselineIndex, ClaimMatcher, MatchResult, analyze_claim
from monitor.matching.text import is_cyrillic
from monitor.storage.engine import session_scope
from monitor.storage.models import WatchTerm
from monitor.text.claims import extract_claims


@dataclass(frozen=True)
class AnalyzedArticle:
    """An on-topic article with everything decided that needs no database: its watch terms, fingerprint,
    claims and their matches (`matches[i]` for `claims[i]`; None where no baseline claim shares a term
    with the claim, so the matcher was not asked). Claims are left empty when the caller already knew the
    article is stored, or a copy of a stored one."""

    article: IncomingArticle
    watch_terms: tuple[str, ...]
    fingerprint: TextFingerprint
    claims: tuple[str, ...] = ()
    matches: tuple[MatchResult | None, ...] = ()


class ArticleAnalyzer:
    """The database-free part of the pipeline: the watch-term filter, claim splitting and matching.

    Pure CPU work with no side effects, so a crawl runs several analyzers side by side, in worker
    processes (`spiders.pipelines`), and hands their results to one `ArticleWriter`.
    """

    def __init__(
        self,
        *,
        watch_terms: WatchTermMatcher,
        claim_matcher: ClaimMatcher,
        page_screen: WatchTermScreen | None = None,
        top_k: int = 3,
    ) -> None:
        self.watch_terms = watch_terms
        self.claim_matcher = claim_matcher
        self.page_screen = page_screen
        self.top_k = top_k

    @classmethod
    def from_database(cls, engine: Engine, *, threshold: float | None = None) -> ArticleAnalyzer:
        """An analyzer with the enabled watch terms and an index of the baseline claims. `threshold`: the
        match score (0-100) below which no match is reported (default: the calibrated one)."""
        with session_scope(engine) as session:
            rows = [row for row in session.exec(select(WatchTerm).order_by(col(WatchTerm.id))) if row.enabled]
            index = BaselineIndex.build_with_installed(baseline_refs(session))
        spellings = [(row.term, list(row.aliases)) for row in rows]
        return cls(
            watch_terms=WatchTermMatcher(spellings),
            claim_matcher=ClaimMatcher(index, threshold=threshold),
            page_screen=WatchTermScreen(spellings),
        )

    def page_may_be_on_topic(self, html: str, *texts: str | None) -> bool:
        """False only for a page that cannot pass the watch-term filter whatever extraction finds in it."""
        return self.page_screen is None or self.page_screen.may_match(html, *texts)

    def watch_terms_in(self, article: IncomingArticle) -> tuple[str, ...]:
        return tuple(self.watch_terms.matches(f"{article.title or ''}\n{article.text}"))

    def analyze(self, article: IncomingArticle) -> AnalyzedArticle | None:
        """The article's watch terms, claims and matches; None when it is not on topic."""
        terms = self.watch_terms_in(article)
        if not terms:
            return None
        return self.with_claims(AnalyzedArticle(article, terms, TextFingerprint.of(article.text)))

    def analyze_many(self, articles: Sequence[IncomingArticle]) -> list[AnalyzedArticle | None]:
        """`analyze` for each article, in order, their claims matched together: the sentence encoders run
        in batches across all the articles, not article by article."""
        found: list[AnalyzedArticle | None] = []
        for article in articles:
            terms = self.watch_terms_in(article)
            found.append(AnalyzedArticle(article, terms, TextFingerprint.of(article.text)) if terms else None)
        on_topic = [analyzed for analyzed in found if analyzed is not None]
        claimed = iter(self.with_claims_many(on_topic))
        return [None if analyzed is None else next(claimed) for analyzed in found]

    def with_claims(self, analyzed: AnalyzedArticle) -> AnalyzedArticle:
        return self.with_claims_many([analyzed])[0]

    def with_claims_many(self, batch: Sequence[AnalyzedArticle]) -> list[AnalyzedArticle]:
        """Each article with its claims and their matches, the claims of all of them matched in one call."""
        claim_lists = [tuple(extract_claims(analyzed.article.text)) for analyzed in batch]
        flat = [claim for claims in claim_lists for claim in claims]
        # The sentence before each claim in its own article, for a claim whose subject is a pronoun.
        contexts = [claims[i - 1] if i else None for claims in claim_lists for i in range(len(claims))]
        matches = iter(self.match_claims(flat, contexts=contexts))
        return [
            replace(analyzed, claims=claims, matches=tuple(next(matches) for _ in claims))
            for analyzed, claims in zip(batch, claim_lists, strict=True)
        ]

    def match_claims(
        self, claims: Sequence[str], *, contexts: Sequence[str | None] | None = None
    ) -> tuple[MatchResult | None, ...]:
        """The matcher's result per claim, None for a claim it could only answer "none" for. `contexts`:
        the sentence before each claim in its article (default: the claim before it in `claims`).

        A claim that shares no term with any baseline claim has no lexical candidate; matching it anyway
        would run the most expensive stages (sentence encoding, a dense scan) to conclude that, since
        lexical evidence leads the detection score. The claims that remain go to the matcher in one call,
        so it can batch them.
        """
        index = self.claim_matcher.index
        if contexts is None:
            contexts = [claims[i - 1] if i else None for i in range(len(claims))]
        analyses = [analyze_claim(claim, index.lexicon) for claim in claims]
        # A Russian, Ukrainian or Belarusian claim may share no word with the English baseline and still
        # speak to it: the multilingual encoder judges it.
        multilingual = "multilingual" in index.dense
        retrievable = [
            position
            for position, analysis in enumerate(analyses)
            if len(index.query_terms(analysis).term_ids) or (multilingual and is_cyrillic(claims[position]))
        ]
        results: list[MatchResult | None] = [None] * len(claims)
        if retrievable:
            found = self.claim_matcher.match_many(
                [claims[i] for i in retrievable],
                top_k=self.top_k,
                analyses=[analyses[i] for i in retrievable],
                # The sentence before each claim, for one whose subject is a pronoun (see `names_nothing`).
                contexts=[contexts[i] for i in retrievable],
            )
            for position, result in zip(retrievable, found, strict=True):
                results[position] = result
        return tuple(results)
