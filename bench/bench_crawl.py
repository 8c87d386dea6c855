"""Crawl throughput: the full pipeline against a bare Scrapy spider that only fetches, on the same local site.

The site (its own process, 127.0.0.1) serves one RSS feed linking N realistic article pages of about 40 KB
each, every one on topic and different. Both crawls run with the same concurrency and no AutoThrottle, so
the ratio measures what fetch -> extract -> filter -> claims -> match -> store costs over fetching alone.
Peak memory is the largest sum of the memory of this script's child processes at one moment (sampled):
the crawl with its analyzer and writer processes, or the bare spider (the site server excluded); as
resident memory (`crawl.peak_memory`, a page that several processes map counted in each) and as
proportional memory (`crawl.peak_memory_pss`, such a page split between them: what the machine gives).
With `--text real` the pages' sentences are real article sentences (general news from the extraction
benchmark) instead of the beat's words strung together: few of them come near a baseline claim, as in
real coverage, so few reach the sentence encoders (figures `crawl.real_text.*`).
Run: `.venv/bin/python bench/bench_crawl.py [--pages 2000] [--quick] [--ingest-workers N] [--text real]`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import Figures, shared_dir

from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.crawling.runs import CrawlLimits, run_crawl
from monitor.demo.site import LOCAL_SITE_NETWORK, LOCAL_SITE_POLICY
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.text.sentences import split_sentences

_WORDS = [
    "border",
    "troops",
    "exercise",
    "officials",
    "ministry",
    "reported",
    "according",
    "statement",
    "region",
    "forces",
    "military",
    "government",
    "said",
    "week",
    "month",
    "defence",
    "analysts",
    "security",
    "talks",
    "negotiations",
    "units",
    "deployment",
    "training",
    "railway",
    "equipment",
    "convoy",
    "sanctions",
    "economy",
    "refinery",
    "pipeline",
    "village",
    "checkpoint",
    "brigade",
    "airfield",
]
_PLACES = ["Belarus", "Minsk", "Kyiv", "Ukraine", "Mozyr", "Gomel", "Brest", "Chernihiv"]
BENCH_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "DOWNLOAD_DELAY": 0,
}


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 22))]
    words.insert(rng.randint(0, len(words)), rng.choice(_PLACES))
    return " ".join(words).capitalize() + f" on {rng.randint(1, 28)} May, with {rng.randint(2, 90) * 100} people."


def _real_sentences() -> list[str]:
    """The sentences of the extraction benchmark's real article bodies (general news, 2020s), six words
    or more: the text of `--text real` pages."""
    truth = json.loads((shared_dir() / "benchmarks" / "article-extraction" / "ground-truth.json").read_text())
    bodies = (page.get("articleBody") or "" for page in truth.values())
    return [sentence for body in bodies for sentence in split_sentences(body) if len(sentence.split()) >= 6]


def article_page(number: int, real: Sequence[str] = ()) -> bytes:
    """Article `number`: about 40 KB of HTML, 30 sentences (4 KB) of article text, the rest navigation,
    scripts and metadata, as on a real news site. The sentences are made of the beat's words (most of them
    reach the sentence encoders), or drawn from `real` sentences where given (few do, as in real coverage).
    """
    rng = random.Random(number)
    if real:
        paragraphs = "\n".join(f"<p>{' '.join(rng.choice(real) for _ in range(3))}</p>" for _ in range(10))
    else:
        paragraphs = "\n".join(f"<p>{' '.join(_sentence(rng) for _ in range(3))}</p>" for _ in range(10))
    menu = "".join(f'<li><a href="/section/{i}">Section {i} of the site</a></li>' for i in range(120))
    script = "<script>var config = {" + ",".join(f'"k{i}": {i}' for i in range(1800)) + "};</script>"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Story {number} about Belarus</title>"
        "<meta property='article:published_time' content='2024-05-14T09:30:00+00:00'>"
        f"{script}</head><body><nav><ul>{menu}</ul></nav><main><article><h1>Story {number} about Belarus</h1>"
        f"{paragraphs}</article></main><footer>© Bench News</footer></body></html>"
    ).encode()


def _feed(base: str, pages: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>{base}/news/2024/05/story-{n}</link></item>" for n in range(pages)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'.encode()


def serve_site(pages: int, ready: Connection, real_text: bool = False) -> None:
    """Child process: serve the bench site until killed; send the base URL once listening. `real_text`:
    pages of real article sentences (see `article_page`)."""
    real = _real_sentences() if real_text else []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            if self.path == "/feed.rss":
                body, kind = _feed(base, pages), "application/rss+xml"
            elif self.path.startswith("/news/2024/05/story-"):
                body, kind = article_page(int(self.path.rsplit("-", 1)[1]), real), "text/html; charset=utf-8"
            elif self.path == "/robots.txt":
                body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                body, kind = b"not found", "text/plain"
            self.send_response(200 if not body.startswith(b"not found") else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        # The listen backlog: the default (5) is less than the crawls' 32 concurrent connections, and on
        # a busy machine the kernel then drops connection attempts, which the client retries only after
        # seconds (or times out): bursts of such stalls made the figures vary tenfold between runs.
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ready.send(base)
    server.serve_forever()


def bare_crawl(feed_url: str, result: Connection) -> None:
    """Child process: a Scrapy spider that fetches the feed's pages and does nothing with them."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from spiders.run import scrapy_settings

    class BareSpider(scrapy.Spider):
        name = "bare"
        fetched = 0

        async def start(self) -> Any:
            yield scrapy.Request(feed_url, callback=self.parse_feed)

        def parse_feed(self, response: Any) -> Iterator[scrapy.Request]:
            for link in response.xpath("//item/link/text()").getall():
                yield scrapy.Request(link, callback=self.parse_page)

        def parse_page(self, response: Any) -> None:
            BareSpider.fetched += 1

    settings = scrapy_settings(CrawlLimits(extra_settings=BENCH_SETTINGS, allowed_networks=(LOCAL_SITE_NETWORK,)))
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    started = time.perf_counter()
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()
    result.send((BareSpider.fetched, time.perf_counter() - started))


def _run_bare(feed_url: str) -> tuple[int, float]:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=bare_crawl, args=(feed_url, sender))
    process.start()
    sender.close()
    fetched, seconds = receiver.recv()
    process.join()
    return fetched, seconds


def _run_pipeline(feed_url: str, folder: Path, limits: CrawlLimits) -> tuple[int, float]:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
        add_source(session, url=feed_url, kind="feed", policy=LOCAL_SITE_POLICY)
    started = time.perf_counter()
    summary = run_crawl(engine, limits=limits)
    seconds = time.perf_counter() - started
    if summary.error or summary.report.errors:
        print(f"bench_crawl: the crawl reported {summary.error or summary.report.errors[:3]}", file=sys.stderr)
    return summary.report.articles.get("new", 0), seconds


class MemorySampler(threading.Thread):
    """Samples the memory of this process's descendants (Linux /proc; else nothing), summed over them two
    ways: resident memory (RSS), which counts a page every process maps (the sentence encoders' weights,
    mapped from one file by every analyzer) once per process, and proportional memory (PSS), which splits
    such a page between the processes sharing it: what the crawl takes of the machine.

    Every half second: a sample reads every process's stat and each descendant's smaps_rollup, whose
    kernel walk over a process of several hundred MB costs about 11 ms of CPU; every 0.1 s that took 4% of
    the two cores' time from the crawl it measures. The crawl's memory climbs as its processes load their
    models and then holds, so the peak is held far longer than half a second."""

    def __init__(self, *, exclude: set[int], every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.exclude = exclude
        self.every = every
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            rss, pss = self._descendants_mb()
            self.peak_mb = max(self.peak_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _descendants_mb(self) -> tuple[float, float]:
        children: dict[int, list[int]] = {}
        rss_pages: dict[int, int] = {}
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # the process ended while we looked
            # The command name (field 2) may hold spaces: the fields after its closing parenthesis are safe.
            fields = stat[stat.rindex(")") + 2 :].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss_pages[pid] = int(fields[21])
        rss = pss_kb = 0
        stack = list(children.get(os.getpid(), []))
        while stack:
            pid = stack.pop()
            if pid in self.exclude:
                continue
            rss += rss_pages.get(pid, 0)
            pss_kb += _pss_kb(pid)
            stack.extend(children.get(pid, []))
        return rss * resource.getpagesize() / (1024 * 1024), pss_kb / 1024


def _pss_kb(pid: int) -> int:
    """A process's proportional set size in kB (0 where it ended, or the kernel does not tell)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="300 pages")
    parser.add_argument("--ingest-workers", type=int, help="analyzer processes (default: CrawlLimits')")
    parser.add_argument(
        "--text",
        choices=("beat-words", "real"),
        default="beat-words",
        help="the pages' sentences: the beat's words (default, the figures issue 16 pins) or real article "
        "sentences from shared/benchmarks/article-extraction (figures named crawl.real_text.*)",
    )
    args = parser.parse_args()
    pages = 300 if args.quick else args.pages
    limits = CrawlLimits(extra_settings=BENCH_SETTINGS, progress_every=10**9, allowed_networks=(LOCAL_SITE_NETWORK,))
    if args.ingest_workers is not None:
        limits = replace(limits, ingest_workers=args.ingest_workers)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    site = context.Process(target=serve_site, args=(pages, sender, args.text == "real"), daemon=True)
    site.start()
    feed_url = receiver.recv() + "/feed.rss"
    memory = MemorySampler(exclude={site.pid} if site.pid else set())
    memory.start()
    try:
        bare_pages, bare_seconds = _run_bare(feed_url)
        with tempfile.TemporaryDirectory() as folder:
            stored, pipeline_seconds = _run_pipeline(feed_url, Path(folder), limits)
    finally:
        memory.stop()
        site.kill()
    bare_rate, pipeline_rate = bare_pages / bare_seconds, stored / pipeline_seconds
    # ru_maxrss of children is the largest single terminated child (KB on Linux), whatever the sampling missed.
    largest_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak_mb = max(memory.peak_mb, largest_child_mb)
    figures = Figures()
    prefix = "crawl.real_text" if args.text == "real" else "crawl"
    figures.add(f"{prefix}.pages", float(pages), "pages", digits=0)
    figures.add(f"{prefix}.bare_pages_per_s", bare_rate, "pages/s", digits=1)
    figures.add(f"{prefix}.pipeline_pages_per_s", pipeline_rate, "pages/s", digits=1)
    figures.add(f"{prefix}.pipeline_vs_bare", pipeline_rate / bare_rate, "ratio", digits=2)
    figures.add(f"{prefix}.peak_memory", peak_mb, "MB", digits=0)
    figures.add(f"{prefix}.peak_memory_pss", memory.peak_pss_mb, "MB", digits=0)
    figures.save()
    return 0 if stored == pages == bare_pages else 1


if __name__ == "__main__":
    sys.exit(main())
