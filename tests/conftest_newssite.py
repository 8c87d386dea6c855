"""Fixtures for crawl tests: the local news site (one per test session) and a fresh request log per test.

Loaded with `pytest_plugins = ["conftest_newssite"]` by the test modules that need it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from newssite.server import NewsSite


@pytest.fixture(scope="session")
def news_site_server() -> Iterator[NewsSite]:
    site = NewsSite()
    site.start()
    yield site
    site.stop()


@pytest.fixture
def news_site(news_site_server: NewsSite) -> NewsSite:
    """The running site with its request log and per-page state cleared."""
    news_site_server.reset()
    return news_site_server
