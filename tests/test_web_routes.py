"""The pages and the JSON API in-process (TestClient over the ASGI app), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from factories import article, baseline_claim, match, source
from sqlalchemy.engine import Engine
from sqlmodel import Session
from web_helpers import NOW, XSS, XSS_ESCAPED, csrf_token, make_app, make_client

from alerts.digest import build_digest
from alerts.digest_render import digest_html
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, Match, WatchTerm

PAGES = (
    "/",
    "/matches",
    "/articles",
    "/baseline",
    "/digests",
    "/digests/2024-05-02",
    "/watch",
    "/sources",
    "/docs",
    "/login",
)


def _seed_coverage(engine: Engine) -> dict[str, int]:
    """Two baseline claims; matches of every verdict from two outlets on two days; a source and a term."""
    with session_scope(engine) as session:
        troops = baseline_claim(session)
        join = baseline_claim(session, text="Kyiv fears that Belarus could soon join Russia.")
        minsk = article(session, outlet="Minsk Daily", watch_terms=["Lukashenko"], fetched_at=NOW)
        kyiv = article(session, outlet="Kyiv Post", watch_terms=["Belarus"], fetched_at=NOW - timedelta(days=1))
        updated = match(session, baseline=troops, on_article=minsk, created_at=NOW)
        contradicted = match(
            session,
            baseline=join,
            on_article=kyiv,
            claim_text="Belarus will stay out of the war, Kyiv believes.",
            verdict="contradicted",
            evidence={"antonym": ["join", "stay out"], "shared_terms": ["kyiv", "belarus"]},
            created_at=NOW - timedelta(days=1),
        )
        repeated = match(
            session,
            baseline=troops,
            on_article=kyiv,
            claim_text="Belarus has 12,000-15,000 troops near the Ukrainian border.",
            verdict="repeated",
            evidence={},
            created_at=NOW - timedelta(days=1),
        )
        session.add(WatchTerm(term="Lukashenko", term_key="lukashenko", aliases=["Лукашенко"]))
        source(session, url="https://feeds.example/rss", failures=2, last_error="HTTP 503", outlet="Feeds")
    ids = {"troops": troops.id, "join": join.id, "minsk": minsk.id, "kyiv": kyiv.id}
    ids |= {"updated": updated.id, "contradicted": contradicted.id, "repeated": repeated.id}
    return {name: value for name, value in ids.items() if value is not None}


def test_every_page_renders_with_data(engine: Engine) -> None:
    ids = _seed_coverage(engine)
    client = make_client(make_app(engine))
    extra = (f"/baseline/{ids['troops']}", f"/articles/{ids['minsk']}", "/digests/2024-05-01")
    for path in (*PAGES, *extra):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "Traceback" not in response.text


def test_today_shows_counts_alerts_and_crawl_health(sqlite_engine: Engine) -> None:
    _seed_coverage(sqlite_engine)
    page = make_client(make_app(sqlite_engine)).get("/").text
    assert "Today, 2024-05-02" in page
    assert "1 source failing" in page and "HTTP 503" in page
    assert "3 to review" in page


def test_today_says_how_many_failing_sources_it_does_not_list(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        for number in range(8):
            source(session, url=f"https://down{number}.example/feed", failures=2, last_error="timeout")
    page = make_client(make_app(sqlite_engine)).get("/").text
    assert "8 sources failing:" in page and page.count("timeout") == 5
    assert '<a href="/sources">and 3 more</a>' in page


def test_latest_alerts_show_each_match_once_with_its_channels(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = match(session, claim_text="First alerted sentence.")
        second = match(session, claim_text="Second alerted sentence.")
        for row in (first, second):
            session.add(Alert(channel="email", match_id=row.id, status="sent"))
            session.add(Alert(channel="slack", match_id=row.id, status="failed", last_error="HTTP 404"))
    page = make_client(make_app(engine)).get("/").text
    latest = page[page.index("Latest alerts") : page.index("</table>", page.index("Latest alerts"))]
    assert latest.count("First alerted sentence.") == 1 and latest.count("Second alerted sentence.") == 1
    assert latest.index("Second alerted sentence.") < latest.index("First alerted sentence.")  # newest first
    assert latest.count("email sent") == 2 and latest.count("slack failed") == 2


def test_matches_page_shows_both_sentences_with_highlights(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    page = make_client(make_app(sqlite_engine)).get("/matches?verdict=updated").text
    assert f'id="match-{ids["updated"]}"' in page
    assert f'id="match-{ids["contradicted"]}"' not in page
    assert '<mark class="figure">12,000-15,000</mark>' in page
    assert '<mark class="figure">9,000</mark>' in page
    assert "figure changed: 12,000-15,000 -&gt; 9,000" in page
    assert f'href="/baseline/{ids["troops"]}"' in page
    assert "#:~:text=Belarus%20has%209%2C000" in page  # the text-fragment link to the sentence

    flipped = make_client(make_app(sqlite_engine)).get("/matches?verdict=contradicted").text
    assert '<mark class="flip">join</mark>' in flipped and '<mark class="flip">stay out</mark>' in flipped


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("verdict=contradicted", {"contradicted"}),
        ("outlet=Minsk+Daily", {"updated"}),
        ("term=Lukashenko", {"updated"}),
        ("term=Belarus", {"contradicted", "repeated"}),
        ("from=2024-05-02&to=2024-05-02", {"updated"}),
        ("to=2024-05-01", {"contradicted", "repeated"}),
        ("review=unreviewed", {"updated", "contradicted", "repeated"}),
        ("review=dismissed", set()),
    ],
)
def test_match_filters(engine: Engine, query: str, expected: set[str]) -> None:
    _seed_coverage(engine)
    body = make_client(make_app(engine)).get(f"/api/matches?{query}").json()
    assert {item["verdict"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def test_filter_by_baseline_claim_and_article(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    client = make_client(make_app(sqlite_engine))
    by_claim = client.get(f"/api/matches?claim={ids['troops']}").json()["items"]
    assert {item["id"] for item in by_claim} == {ids["updated"], ids["repeated"]}
    by_article = client.get(f"/api/matches?article={ids['kyiv']}").json()["items"]
    assert {item["id"] for item in by_article} == {ids["contradicted"], ids["repeated"]}
    page = client.get(f"/matches?claim={ids['join']}").text
    assert f'id="match-{ids["contradicted"]}"' in page and f'id="match-{ids["updated"]}"' not in page


def test_bad_filters_show_an_error_not_a_stack_trace(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    page = client.get("/matches?verdict=maybe&from=yesterday")
    assert page.status_code == 400
    assert "verdict: &#39;maybe&#39; is not one of repeated, updated, contradicted" in page.text
    assert "from: &#39;yesterday&#39; is not a date like 2024-05-01" in page.text
    api = client.get("/api/matches?from=2024-13-01")
    assert api.status_code == 400 and "is not a date" in api.json()["detail"]
    assert client.get("/api/matches?limit=0").status_code == 422


def test_match_json_has_the_cli_fields(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    item = make_client(make_app(sqlite_engine)).get(f"/api/matches/{ids['updated']}").json()
    assert item["verdict"] == "updated" and item["baseline_claim_id"] == ids["troops"]
    assert item["evidence"] == {"changed": [["12,000-15,000", "9,000"]]}
    for field in ("id", "score", "claim", "article_url", "baseline_claim", "review_status", "link"):
        assert field in item


def test_dismissing_a_match_takes_it_out_of_the_digest(engine: Engine) -> None:
    ids = _seed_coverage(engine)
    client = make_client(make_app(engine))
    assert client.get("/api/digests/2024-05-02").json()["match_count"] == 1
    token = csrf_token(client, "/matches")
    response = client.post(
        f"/matches/{ids['updated']}/review",
        data={"status": "dismissed", "note": "same figure, old report", "csrf_token": token, "return_to": "/matches"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/matches#match-{ids['updated']}"
    with Session(engine) as session:
        row = session.get(Match, ids["updated"])
        assert row is not None and row.review_status == "dismissed"
        assert row.review_note == "same figure, old report" and row.reviewed_at is not None
    assert client.get("/api/digests/2024-05-02").json()["match_count"] == 0
    assert "Belarus has 9,000 troops" not in client.get("/digests/2024-05-02").text
    assert client.get("/api/matches?review=dismissed").json()["total"] == 1


def test_review_through_the_api(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    client = make_client(make_app(sqlite_engine))
    confirmed = client.post(f"/api/matches/{ids['updated']}/review", json={"status": "confirmed"})
    assert confirmed.status_code == 200 and confirmed.json()["review_status"] == "confirmed"
    reset = client.patch(f"/api/matches/{ids['updated']}", json={"status": "unreviewed", "note": "  "})
    assert reset.json()["review_status"] == "unreviewed" and reset.json()["reviewed_at"] is None
    assert client.post(f"/api/matches/{ids['updated']}/review", json={"status": "maybe"}).status_code == 422
    missing = client.post("/api/matches/999999/review", json={"status": "confirmed"})
    assert missing.status_code == 404 and "no match with id 999999" in missing.json()["detail"]


def test_digest_page_shows_what_the_email_digest_shows(sqlite_engine: Engine) -> None:
    _seed_coverage(sqlite_engine)
    app = make_app(sqlite_engine)
    page = make_client(app).get("/digests/2024-05-01").text
    with Session(sqlite_engine) as session:
        content = build_digest(session, day=NOW.date() - timedelta(days=1), zone=app.state.settings.zone)
    email = digest_html(content)
    assert content.match_count == 2
    for section in content.verdicts:
        for group in section.groups:
            assert group.baseline_claim in page and group.baseline_claim in email
            for item in group.matches:
                assert item.claim in page and item.claim in email
                assert all(line.replace(">", "&gt;") in page for line in item.evidence)
    for term in content.watch_terms:
        assert f"{term.term} ({len(term.articles)})" in page
    assert 'href="/digests/2024-05-02" rel="next"' in page


def test_digests_list_and_previous_next(sqlite_engine: Engine) -> None:
    _seed_coverage(sqlite_engine)
    client = make_client(make_app(sqlite_engine))
    days = client.get("/api/digests").json()
    assert [day["day"] for day in days] == ["2024-05-02", "2024-05-01"]
    page = client.get("/digests/2024-05-02").text
    assert 'href="/digests/2024-05-01" rel="prev"' in page and 'rel="next"' not in page
    assert client.get("/digests/not-a-day").status_code == 404


def test_baseline_pages_count_and_chart(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    client = make_client(make_app(sqlite_engine))
    claims = {item["claim_id"]: item for item in client.get("/api/claims").json()}
    assert claims[ids["troops"]]["updated"] == 1 and claims[ids["troops"]]["repeated"] == 1
    assert claims[ids["join"]]["contradicted"] == 1
    page = client.get(f"/baseline/{ids['troops']}").text
    assert page.count('class="bar bar-') == 2
    assert "Minsk Daily" in page and "Kyiv Post" in page
    assert client.get("/baseline/424242").status_code == 404


def test_unknown_pages_and_ids_get_a_404_page(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    for path in ("/nothing-here", "/articles/42", "/articles/not-a-number", "/baseline/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"] and "Not found" in response.text
    api = client.get("/api/matches/42")
    assert api.status_code == 404 and api.json() == {"detail": "no match with id 42"}


def test_security_headers(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    for path in ("/", "/api/matches", "/feeds/alerts.xml", "/nothing", "/static/app.css"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"


def test_pages_use_no_inline_script_or_style_and_nothing_external(sqlite_engine: Engine) -> None:
    _seed_coverage(sqlite_engine)
    client = make_client(make_app(sqlite_engine))
    for path in (*PAGES, "/baseline/1"):
        page = client.get(path).text
        assert "<script>" not in page and " onclick=" not in page and " style=" not in page, path
        assert 'src="http' not in page and 'href="https://cdn' not in page, path


def test_xss_headline_is_text_in_pages_feed_and_json(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        story = article(session, title=XSS, outlet=XSS, url="https://news.example/x", fetched_at=NOW)
        base = baseline_claim(session, text=f"Baseline {XSS} claim.", title=XSS)
        row = match(session, baseline=base, on_article=story, claim_text=f"New {XSS} claim.", created_at=NOW)
        session.add(WatchTerm(term="Belarus", term_key="belarus", aliases=[XSS]))
    client = make_client(make_app(sqlite_engine))
    for path in ("/", "/matches", f"/articles/{story.id}", f"/baseline/{base.id}", "/baseline", "/digests/2024-05-02"):
        page = client.get(path).text
        assert XSS not in page, path
        assert XSS_ESCAPED in page, path
    assert XSS not in client.get("/watch").text

    feed = client.get("/feeds/alerts.xml")
    assert XSS.encode() not in feed.content
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert parsed.entries[0].title == f"UPDATED: New {XSS} claim."

    items = client.get("/api/articles").json()["items"]
    assert items[0]["title"] == XSS
    assert client.get(f"/api/matches/{row.id}").json()["claim"] == f"New {XSS} claim."


def test_a_javascript_address_never_becomes_a_link(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        story = article(session, url="javascript:alert(1)", fetched_at=NOW)
        match(session, on_article=story, created_at=NOW)
    client = make_client(make_app(sqlite_engine))
    for path in ("/matches", f"/articles/{story.id}", "/digests/2024-05-02"):
        assert 'href="javascript:' not in client.get(path).text, path


def test_feed_parses_and_leaves_out_dismissed_matches(sqlite_engine: Engine) -> None:
    ids = _seed_coverage(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        match(session, claim_text="Control \x00\x1b characters \ufffe vanish.", created_at=NOW)
        dismissed = session.get(Match, ids["repeated"])
        assert dismissed is not None
        dismissed.review_status = "dismissed"
    response = make_client(make_app(sqlite_engine)).get("/feeds/alerts.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [entry.title for entry in parsed.entries]
    assert len(titles) == 3
    assert "UPDATED: Control  characters  vanish." in titles
    assert not any("12,000-15,000 troops" in title for title in titles)
    assert parsed.feed.title == "Claim Monitor alerts"


def test_docs_are_served_without_external_assets(sqlite_engine: Engine) -> None:
    client = make_client(make_app(sqlite_engine))
    docs = client.get("/docs")
    assert docs.status_code == 200
    for operation in ("GET", "POST", "DELETE"):
        assert f'method-{operation.lower()}">{operation}</span>' in docs.text
    assert "<code>/api/watch-terms</code>" in docs.text and "cdn." not in docs.text
    schema = client.get("/openapi.json").json()
    for path in ("/api/matches", "/api/articles", "/api/claims", "/api/digests", "/api/watch-terms", "/api/sources"):
        assert path in schema["paths"]
    assert "/watch" not in schema["paths"]  # pages are not part of the API


def test_sources_page_is_a_compact_filterable_table_without_research_notes(sqlite_engine: Engine) -> None:
    from monitor.catalog.first_run import initialise

    with session_scope(sqlite_engine) as session:
        initialise(session)
    client = make_client(make_app(sqlite_engine))
    page = client.get("/sources").text
    assert page.count('<tr class="source') == 58 and "58 of 58 sources · 24 crawled" in page
    assert "E1 (" not in page and "high E1" not in page and "confidence" not in page  # notes stay in the data file
    assert len(page.encode()) < 100_000  # one row a source (the cards with notes were 15,000 px tall)
    paused = client.get("/sources?state=paused&language=uk").text
    assert "sources · 24 crawled" in paused and 'class="source paused' in paused
    assert 'class="source"' not in paused  # no crawled one among them
    found = client.get("/sources?q=kyiv%20independent").text
    assert found.count('<tr class="source') == 1 and "Kyiv Independent" in found


def test_baseline_page_offers_adding_first_and_counts_zero(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        baseline_claim(session, text="Belarus has 12,000 troops.")
    page = make_client(make_app(sqlite_engine)).get("/baseline").text
    assert page.index("Add a baseline article") < page.index("Belarus has 12,000 troops.")
    assert '<td class="num verdict-repeated zero">0</td>' in page


def test_favicon_ico_is_served() -> None:
    from monitor.storage.engine import make_engine

    response = make_client(make_app(make_engine("sqlite://"))).get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")


def test_a_claims_timeline_is_grouped_by_day_and_outlet_and_paginated(sqlite_engine: Engine) -> None:
    from datetime import UTC, datetime

    from monitor.catalog.queries import claim_timeline
    from monitor.config import load_settings

    with session_scope(sqlite_engine) as session:
        base = baseline_claim(session, text="Belarus has 12,000 troops.")
        for day in (1, 2):
            for outlet in ("Kyiv Post", "Minsk Daily"):
                for number in range(3):
                    published = datetime(2024, 5, day, 8 + number, tzinfo=UTC)
                    text = f"{outlet} sentence {number} of May {day}."
                    # Found long after publication: the timeline and chart date coverage by publication.
                    match(
                        session,
                        baseline=base,
                        claim_text=text,
                        outlet=outlet,
                        published=published,
                        created_at=datetime(2024, 6, 1, tzinfo=UTC),
                    )
        claim_id = base.id
    assert claim_id is not None
    client = make_client(make_app(sqlite_engine))
    page = client.get(f"/baseline/{claim_id}").text
    assert "12 matches, by day of publication and outlet" in page
    assert page.count("· 3 matches:") == 4
    assert "Kyiv Post sentence 0 of May 1." in page and "Kyiv Post sentence 2 of May 1." in page
    assert "Kyiv Post sentence 1 of May 1." not in page  # only the first and the latest of a group
    assert "/matches?claim=" in page and "outlet=Kyiv+Post" in page and "from=2024-05-01" in page
    assert "2024-06-01" not in page.split("Timeline")[0].split("Matches over time")[1]  # chart by publication
    with session_scope(sqlite_engine) as session:
        paged = claim_timeline(session, claim_id, zone=load_settings().zone, page=2, per_page=3)
    assert (paged.pages, paged.total_groups, len(paged.groups)) == (2, 4, 1)
    assert paged.groups[0].outlet == "Minsk Daily" and paged.groups[0].start.isoformat() == "2024-05-02"
    assert len(paged.points) == 12
