"""The baseline in the database: loading the bundled corpus, adding articles and claim lists, the claims as
the matcher sees them (`baseline_refs`) and their sentence vectors, computed once when the baseline is added
(`encode_baseline_vectors`); the listings are read queries, in `monitor.catalog.queries`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, col, select

from baseline.claims_file import ImportedClaim
from baseline.loader import ArticleText, CorpusArticle, load_corpus
from monitor.catalog.queries import baseline_claims
from monitor.errors import DuplicateError, InputError, NotFoundError
from monitor.matching import BaselineClaimRef, Encoders
from monitor.matching.index import encode_baseline, installed_encoders
from monitor.storage.models import BaselineArticle, BaselineClaim, Match
from monitor.text.claims import extract_claims


def _digest(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadReport:
    articles_added: int
    claims_added: int


def _insert_article(session: Session, article: BaselineArticle, claims: Sequence[BaselineClaim]) -> None:
    session.add(article)
    session.flush()
    assert article.id is not None
    for claim in claims:
        claim.article_id = article.id
        session.add(claim)
    session.flush()


def load_bundled_baseline(session: Session, corpus_dir: Path | None = None) -> LoadReport:
    """Store the corpus articles that are not stored yet; an article already stored is left as it is."""
    articles_added = claims_added = 0
    stored_keys = set(session.exec(select(BaselineArticle.key)))
    for corpus_article in load_corpus(corpus_dir):
        key = f"corpus:{corpus_article.key}"
        if key in stored_keys:
            continue
        _insert_article(session, _article_row(key, corpus_article), _claim_rows(corpus_article.claims))
        articles_added += 1
        claims_added += len(corpus_article.claims)
    return LoadReport(articles_added, claims_added)


def _article_row(key: str, article: CorpusArticle) -> BaselineArticle:
    return BaselineArticle(
        key=key,
        title=article.title,
        outlet=article.outlet,
        published=article.published,
        url=article.url,
        kind="article",
        body=article.body,
        content_hash=_digest(article.body),
    )


def _claim_rows(claims: Sequence[str]) -> list[BaselineClaim]:
    return [BaselineClaim(article_id=0, position=index, text=text) for index, text in enumerate(claims)]


def _reject_duplicate(session: Session, content_hash: str, source: str) -> None:
    existing = session.exec(select(BaselineArticle).where(BaselineArticle.content_hash == content_hash)).first()
    if existing is not None and existing.removed_at is not None:
        raise DuplicateError(f"{source}: this is {existing.title!r}, removed from the baseline; it cannot be re-added")
    if existing is not None:
        raise DuplicateError(f"{source}: the baseline has this already, as {existing.title!r}")


def add_baseline_article(
    session: Session,
    *,
    article: ArticleText,
    source: str,
    title: str | None = None,
    outlet: str | None = None,
    published: date | None = None,
) -> tuple[BaselineArticle, int]:
    """Add one reference article read from `source` (a path or URL); return it with its claim count."""
    claims = extract_claims(article.body)
    if not claims:
        raise InputError(f"{source}: no checkable claims found in the article text")
    content_hash = _digest(article.body)
    _reject_duplicate(session, content_hash, source)
    row = BaselineArticle(
        key=f"added:{content_hash[:16]}",
        title=(title or article.title or Path(source).stem or source).strip(),
        outlet=outlet,
        published=published or article.published,
        url=article.url or (source if source.startswith(("http://", "https://")) else None),
        kind="article",
        body=article.body,
        content_hash=content_hash,
    )
    _insert_article(session, row, _claim_rows(claims))
    return row, len(claims)


def add_claims_list(
    session: Session, *, claims: Sequence[ImportedClaim], source: str, title: str | None = None
) -> tuple[BaselineArticle, int]:
    """Add a list of known claims (a fact-check database, say) as a baseline of its own."""
    if not claims:
        raise InputError(f"{source}: the file has no claims")
    content_hash = _digest("\n".join(claim.text for claim in claims))
    _reject_duplicate(session, content_hash, source)
    row = BaselineArticle(
        key=f"claims:{content_hash[:16]}",
        title=(title or Path(source).name).strip(),
        kind="claims",
        content_hash=content_hash,
    )
    rows = [
        BaselineClaim(
            article_id=0,
            position=index,
            text=claim.text,
            external_id=claim.external_id,
            source=claim.source,
            published=claim.published,
        )
        for index, claim in enumerate(claims)
    ]
    _insert_article(session, row, rows)
    return row, len(rows)


@dataclass(frozen=True)
class Removal:
    """What `remove_baseline_article` did."""

    title: str
    claims: int
    matches_removed: int
    matches_kept: int


def remove_baseline_article(session: Session, *, article_id: int, remove_matches: bool, now: datetime) -> Removal:
    """Remove a baseline article: its claims are no longer matched, listed or re-added by `init`. Its
    matches are deleted with their alerts (`remove_matches`), or kept, still naming the claims they
    matched. Raises NotFoundError for an unknown or already removed article."""
    article = session.get(BaselineArticle, article_id)
    if article is None or article.removed_at is not None:
        raise NotFoundError(f"no baseline article {article_id} (see `monitor baseline list`)")
    claim_ids = list(session.exec(select(BaselineClaim.id).where(BaselineClaim.article_id == article_id)))
    matched = select(Match.id).where(col(Match.baseline_claim_id).in_(claim_ids))
    count = len(list(session.exec(matched)))
    if remove_matches and count:
        session.execute(delete(Match).where(col(Match.baseline_claim_id).in_(claim_ids)))
    article.removed_at = now
    session.add(article)
    session.flush()
    kept = 0 if remove_matches else count
    return Removal(article.title, len(claim_ids), count - kept, kept)


def baseline_refs(session: Session) -> list[BaselineClaimRef]:
    """The baseline claims as the matcher sees them."""
    refs = []
    for claim, article in baseline_claims(session):
        assert claim.id is not None
        refs.append(
            BaselineClaimRef(
                claim_id=claim.id,
                text=claim.text,
                article=article.title if article.kind == "article" else (claim.source or article.title),
                published=claim.published or article.published,
                external_id=claim.external_id,
            )
        )
    return refs


def encode_baseline_vectors(
    session: Session,
    *,
    encoders: Encoders | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Compute and keep the sentence vectors of the whole baseline for the encoders its index uses
    (`encoders`, default: those installed), so that no crawl, check or service start encodes a baseline
    claim: run after adding to the baseline. Only claims without kept vectors are encoded (a new claim, a
    new model version). `progress(encoder name, done, to_do)` as it goes. Returns the number encoded per
    encoder."""
    texts = [ref.text for ref in baseline_refs(session)]
    return encode_baseline(texts, installed_encoders(len(texts)) if encoders is None else encoders, progress=progress)
