"""Demo coverage for screenshots (and trying the UI by hand): a few articles that repeat, update and
contradict the bundled baseline, run through the real pipeline, spread over the last three weeks.

`make demo` (a colleague's) builds a richer database from a local news site; `scripts/screenshots.py --db`
uses that one when given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from alerts.outbox import enqueue_match_alerts
from monitor.catalog.first_run import initialise
from monitor.catalog.sources import add_source
from monitor.ingest.model import IncomingArticle
from monitor.ingest.pipeline import ArticleIngestor
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, AlertStatus, Article, Claim, CrawlRun, CrawlStatus, Match

# (days ago, outlet, title, text): each text speaks to a baseline claim.
DEMO_ARTICLES = (
    (
        20,
        "Kyiv Independent",
        "Belarus drills near the border again",
        "The Belarusian Armed Forces have recently begun holding military drills near the Ukrainian border, "
        "while Moscow continues supplying weapons to its only ally in Europe. Officials in Kyiv watch closely.",
    ),
    (
        16,
        "Meduza",
        "How many troops could Minsk send?",
        "Some experts believe that Minsk has only around 9,000 troops that could take part in a possible invasion. "
        "That is far from enough for any serious large-scale operations, analysts say.",
    ),
    (
        12,
        "Belsat",
        "Iskander systems arrive in Belarus",
        "Moscow has transferred to Belarus Iskander-M tactical missile systems which can use ballistic or cruise "
        "missiles in their conventional and nuclear versions.",
    ),
    (
        9,
        "Reuters",
        "Kyiv no longer expects Belarus to invade",
        "Kyiv no longer fears that Belarus could soon join Russia and invade certain parts of Western Ukraine.",
    ),
    (
        6,
        "Zerkalo",
        "Belarus denies taking part in the war",
        "Belarus is not participating in Russia's invasion of Ukraine, Lukashenko said on Tuesday. "
        "Belarusian soldiers have no combat experience and are not motivated to fight, a former officer said.",
    ),
    (
        3,
        "Novaya Gazeta Europe",
        "Airstrikes from Belarusian territory",
        "Russia significantly increased the number of airstrikes on Ukraine from Belarusian territory. "
        "Russian forces are increasing their presence in Belarus, namely, military aviation.",
    ),
    (
        1,
        "Kyiv Independent",
        "Talks venue",
        "The next round of negotiations will be held at the Polish-Belarusian border, both sides agreed.",
    ),
    (
        0,
        "Meduza",
        "Belarus and the Kremlin's war today",
        "Belarus is actively participating in Russia's invasion of Ukraine, according to the Ukrainian military. "
        "The Belarusian army has around 20,000 troops that could fight a war against its southern neighbour.",
    ),
)
DEMO_SOURCES = (
    ("https://kyivindependent.example/rss", "Kyiv Independent", None),
    ("https://meduza.example/rss/all", "Meduza", None),
    ("https://belsat.example/feed", "Belsat", "HTTP 503 Service Unavailable"),
)


def seed_demo(engine: Engine, *, now: datetime) -> None:
    """Fill an empty, migrated database with the bundled baseline and the demo coverage."""
    with session_scope(engine) as session:
        initialise(session)
        for url, outlet, error in DEMO_SOURCES:
            source = add_source(session, url=url, outlet=outlet)
            source.last_crawled_at = now - timedelta(minutes=20)
            source.last_status = "error" if error else "ok"
            source.last_error = error
            source.consecutive_failures = 3 if error else 0
        session.add(
            CrawlRun(
                started_at=now - timedelta(minutes=21),
                finished_at=now - timedelta(minutes=20),
                status=CrawlStatus.finished,
                stats={"pages": 42, "articles": 8},
            )
        )
    ingestor = ArticleIngestor.for_crawl_run(engine, now=now)
    for number, (days_ago, outlet, title, text) in enumerate(DEMO_ARTICLES, start=1):
        moment = now - timedelta(days=days_ago, hours=number % 5)
        url = f"https://{outlet.lower().replace(' ', '-')}.example/news/{number}"
        result = ingestor.ingest(
            IncomingArticle(
                url=url, canonical_url=url, text=text, title=title, outlet=outlet, published=moment, language="en"
            )
        )
        if result.article_id is not None:
            _backdate(engine, result.article_id, moment)
    _queue_alerts(engine, now=now)


def _backdate(engine: Engine, article_id: int, moment: datetime) -> None:
    """Make the article and its matches look found at `moment`, so days, digests and the chart spread out."""
    with session_scope(engine) as session:
        session.execute(update(Article).where(col(Article.id) == article_id).values(fetched_at=moment))
        claim_ids = select(col(Claim.id)).where(col(Claim.article_id) == article_id)
        session.execute(update(Match).where(col(Match.claim_id).in_(claim_ids)).values(created_at=moment))


def _queue_alerts(engine: Engine, *, now: datetime) -> None:
    """Alert rows for the newest matches, most of them sent, as a running service would have them."""
    with session_scope(engine) as session:
        matches = list(session.exec(select(Match).order_by(col(Match.created_at).desc()).limit(6)))
        enqueue_match_alerts(session, matches=matches, channels=["email"], crawl_run_id=None, now=now)
        session.execute(update(Alert).values(status=AlertStatus.sent, sent_at=now))
