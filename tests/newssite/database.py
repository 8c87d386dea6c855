"""A database ready to crawl the site into: the bundled baseline, the default watch terms, the site's sources."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.demo.site import LOCAL_SITE_POLICY
from monitor.storage.engine import session_scope
from newssite.server import NewsSite

# (site key, kind) of every source of the site; see NewsSite.FEED_PATHS.
SITE_SOURCES = (
    ("main", "feed"),
    ("world", "feed"),
    ("broken", "feed"),
    ("hard", "feed"),
    ("sitemap", "sitemap"),
    ("section", "page"),
)


def prepare_crawl_database(engine: Engine, site: NewsSite, keys: tuple[str, ...] | None = None) -> None:
    """The bundled baseline and watch terms, and the site's sources (all, or those named in `keys`)."""
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
        for key, kind in SITE_SOURCES:
            if keys is None or key in keys:
                add_source(
                    session,
                    url=site.url(NewsSite.FEED_PATHS[key]),
                    kind=kind,
                    outlet="Border Desk",
                    policy=LOCAL_SITE_POLICY,
                )
