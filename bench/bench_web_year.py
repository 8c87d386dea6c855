"""The web pages on a year of coverage: size and time of each page, the busiest claim's timeline included.

    .venv/bin/python bench/bench_web_year.py [--quick]

Runs the offline demo once (a real crawl of the local news site, real matches with their evidence), then
copies its articles and matches into a database the size of a year of coverage: 10,000 articles and
34,000 matches spread over 365 days and 12 outlets, 4,000 of them on one baseline claim (`--quick`: a
tenth). Each page is fetched in-process (`TestClient`) five times; the figures are the median time and the
size. Targets (issue 17): every page under 300 KB and 0.3 s. Prints `web.year.<page>.seconds` and
`.kb`, and the largest of each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import Figures
from sqlalchemy import insert, select
from sqlmodel import Session

from monitor.config import load_settings
from monitor.demo import run_demo
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Article, Claim, Match
from monitor.web.app import create_app

ARTICLES, MATCHES, HOT_CLAIM_MATCHES = 10_000, 34_000, 4_000
OUTLETS = [f"Outlet {number}" for number in range(12)]
START = datetime(2025, 1, 1, tzinfo=UTC)
TARGET_KB, TARGET_SECONDS = 300, 0.3


def real_matches(folder: Path) -> list[tuple[str, dict[str, object], str, float, int]]:
    """(sentence, evidence, verdict, score, baseline claim id) of every match the demo made."""
    report = run_demo(folder)
    engine = make_engine(report.database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Claim.text, Match.evidence, Match.verdict, Match.score, Match.baseline_claim_id).join(
                Claim,
                Claim.id == Match.claim_id,  # type: ignore[arg-type]
            )
        ).all()
    engine.dispose()
    return [
        (text, dict(evidence or {}), verdict, float(score), int(claim))
        for text, evidence, verdict, score, claim in rows
    ]


def build_year(url: str, seeds: Sequence[tuple[str, dict[str, object], str, float, int]], scale: float) -> int:
    """Fill the database at `url` (migrated, with the bundled baseline) with a year of copied coverage;
    return the id of the busiest baseline claim."""
    from monitor.catalog.first_run import initialise

    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        initialise(session)
    rng = random.Random(17)
    articles, matches, hot = int(ARTICLES * scale), int(MATCHES * scale), int(HOT_CLAIM_MATCHES * scale)
    hot_claim = max({claim for *_rest, claim in seeds}, key=lambda claim: sum(s[4] == claim for s in seeds))
    others = sorted({claim for *_rest, claim in seeds} - {hot_claim}) or [hot_claim]
    with engine.begin() as connection:
        article_rows = []
        for number in range(articles):
            published = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
            article_rows.append(
                {
                    "canonical_url": f"https://news{number % 12}.example/{number}",
                    "url": f"https://news{number % 12}.example/{number}",
                    "title": f"Coverage {number}: {seeds[number % len(seeds)][0][:60]}",
                    "outlet": OUTLETS[number % len(OUTLETS)],
                    "published": published,
                    "language": "en",
                    "text": "Body.",
                    "content_hash": f"{number:064d}",
                    "watch_terms": ["Belarus"],
                    "fetched_at": published + timedelta(hours=1),
                }
            )
        connection.execute(insert(Article), article_rows)
        first_article = connection.execute(select(Article.id).order_by(Article.id)).scalars().first() or 1  # type: ignore[arg-type]
        claim_rows = [
            {
                "article_id": first_article + number % articles,
                "position": number // articles,
                "text": seeds[number % len(seeds)][0],
            }
            for number in range(matches)
        ]
        connection.execute(insert(Claim), claim_rows)
        first_claim = connection.execute(select(Claim.id).order_by(Claim.id)).scalars().first() or 1  # type: ignore[arg-type]
        match_rows = []
        for number in range(matches):
            _text, evidence, verdict, score, _claim = seeds[number % len(seeds)]
            baseline = hot_claim if number < hot else others[number % len(others)]
            found = article_rows[number % articles]["fetched_at"]
            match_rows.append(
                {
                    "claim_id": first_claim + number,
                    "baseline_claim_id": baseline,
                    "verdict": verdict,
                    "score": score,
                    "evidence": evidence,
                    "review_status": "unreviewed",
                    "created_at": found,
                }
            )
        connection.execute(insert(Match), match_rows)
    engine.dispose()
    return hot_claim


def measure(url: str, hot_claim: int, figures: Figures) -> None:
    from fastapi.testclient import TestClient

    engine = make_engine(url)
    client = TestClient(create_app(load_settings(database_url=url), engine), base_url="http://127.0.0.1")
    pages = {
        "today": "/",
        "matches": "/matches",
        "matches_csv_week": "/matches.csv?from=2025-06-01&to=2025-06-07",
        "articles": "/articles",
        "baseline": "/baseline",
        "baseline_claim_hot": f"/baseline/{hot_claim}",
        "baseline_claim_hot_page_5": f"/baseline/{hot_claim}?page=5",
        "sources": "/sources",
        "digests": "/digests",
        "digest_day": "/digests/2025-06-01",
        "api_matches": "/api/matches",
    }
    largest_kb, slowest = 0.0, 0.0
    for name, path in pages.items():
        times, size = [], 0
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            size = len(response.content)
        seconds = statistics.median(times)
        figures.add(f"web.year.{name}.seconds", seconds, "s")
        figures.add(f"web.year.{name}.kb", size / 1024, "KB", digits=1)
        if not name.startswith("matches_csv"):  # a download, not a page
            largest_kb, slowest = max(largest_kb, size / 1024), max(slowest, seconds)
    figures.add("web.year.largest_page.kb", largest_kb, "KB", digits=1)
    figures.add("web.year.slowest_page.seconds", slowest, "s")
    engine.dispose()
    if largest_kb > TARGET_KB or slowest > TARGET_SECONDS:
        print(f"note: above the target ({TARGET_KB} KB, {TARGET_SECONDS} s)", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a tenth of the year (1,000 articles, 3,400 matches)")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    figures = Figures()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        seeds = real_matches(Path(folder) / "demo")
        url = f"sqlite:///{Path(folder) / 'year.db'}"
        hot_claim = build_year(url, seeds, scale)
        figures.add("web.year.build.seconds", time.perf_counter() - started, "s", digits=1)
        figures.add("web.year.matches", int(MATCHES * scale), "matches")
        measure(url, hot_claim, figures)
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
