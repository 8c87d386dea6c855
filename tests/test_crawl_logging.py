"""The crawl child's console log: one line per unreachable source, not a traceback."""

from __future__ import annotations

import logging
import sys

from spiders.run import OneLineErrors


def test_one_line_errors_keep_the_message_and_drop_the_traceback() -> None:
    try:
        raise OSError("DNS lookup failed: no results for hostname lookup: kyivindependent.com.")
    except OSError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "scrapy.downloadermiddlewares.robotstxt", logging.ERROR, __file__, 1,
        "Error downloading %s: %s", ("<GET https://kyivindependent.com/robots.txt>", "DNS lookup failed"), exc_info,
    )  # fmt: skip
    assert OneLineErrors().filter(record)
    text = logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert "Traceback" not in text
    assert text.count("\n") == 0
    assert "kyivindependent.com" in text
