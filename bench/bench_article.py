"""One 2,000-word article against the bundled 3-article baseline: how long its claims take to match.

    .venv/bin/python bench/bench_article.py

Two articles, each about 2,000 words:
- `verbatim`: sentences of the baseline itself, lightly perturbed (a figure changed, a word dropped, a
  negation, an attribution): every claim is a near-repeat, the case the cheap signals settle alone;
- `news`: the real news sentences of `shared/eval/dev.jsonl` (on topic, worded their own way, the case
  that needs the sentence encoder), then word-dropped copies of them to reach 2,000 words;
- `russian`: the Russian, Ukrainian and Belarusian sentences of `dev-cyrillic.jsonl`, repeated to about
  2,000 words (the multilingual encoder's cost per claim);
- `crawled`: real articles of the extraction benchmark (`shared/benchmarks/article-extraction`), general
  news that mostly speaks to no baseline claim, as a crawl sees it (the relevance gate's case).

Figures, for each article:
- `service`: the matcher already built (as in the running service and the crawl): claim extraction
  and matching only;
- `cold_process`: a new Python process that loads the encoder, builds the index and matches (what one
  `monitor check --article` costs), with the on-disk caches (unpacked weights, baseline vectors) warm;
- `first_run` (verbatim article only): the same with an empty cache directory (the very first run on a
  machine).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Figures, shared_dir
from bench_matching import corpus_refs
from bench_scale import SEED, _perturb

from monitor.matching import BaselineIndex, ClaimMatcher
from monitor.text.claims import extract_claims

WORDS = 2000


def _article(sentences: list[str]) -> str:
    paragraphs = [" ".join(sentences[start : start + 4]) for start in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def verbatim_article(rng: random.Random) -> str:
    corpus = [ref.text for ref in corpus_refs()]
    sentences: list[str] = []
    while sum(len(sentence.split()) for sentence in sentences) < WORDS:
        sentences.append(_perturb(rng, rng.choice(corpus)))
    return _article(sentences)


def news_article(rng: random.Random) -> str:
    path = shared_dir() / "eval" / "dev.jsonl"
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = list(dict.fromkeys(pair["new"] for pair in pairs))
    originals = list(sentences)
    while sum(len(sentence.split()) for sentence in sentences) < WORDS:
        words = rng.choice(originals).split()
        del words[rng.randrange(len(words))]
        sentences.append(" ".join(words))
    return _article(sentences)


def russian_article() -> str:
    path = shared_dir() / "eval" / "dev-cyrillic.jsonl"
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = list(dict.fromkeys(pair["new"] for pair in pairs))
    repeated: list[str] = []
    while sum(len(sentence.split()) for sentence in repeated) < WORDS:
        repeated.extend(sentences)
    return _article(repeated)


def crawled_article() -> str:
    truth = json.loads((shared_dir() / "benchmarks" / "article-extraction" / "ground-truth.json").read_text())
    bodies: list[str] = []
    for page in truth.values():
        if sum(len(body.split()) for body in bodies) >= WORDS:
            break
        bodies.append(page.get("articleBody") or "")
    return "\n\n".join(bodies)


_COLD = """
import sys, time
started = time.perf_counter()
from monitor.text.claims import extract_claims
from monitor.matching import BaselineIndex, ClaimMatcher
sys.path.insert(0, "bench")
from bench_matching import corpus_refs
matcher = ClaimMatcher(BaselineIndex.build_with_installed(corpus_refs()))
matcher.match_many(extract_claims(sys.stdin.read()))
print(time.perf_counter() - started)
"""


def cold_process_seconds(article: str, cache_home: Path) -> float:
    """Wall time of a new process that imports, loads, builds and matches (interpreter start excluded)."""
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    done = subprocess.run(
        [sys.executable, "-c", _COLD],
        input=article,
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    figures = Figures()
    rng = random.Random(SEED + 1)
    articles = {
        "verbatim": verbatim_article(rng),
        "news": news_article(rng),
        "russian": russian_article(),
        "crawled": crawled_article(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-article-cache-") as folder:
        cache_home = Path(folder)
        figures.add("article.verbatim.first_run", cold_process_seconds(articles["verbatim"], cache_home), "s")
        os.environ["XDG_CACHE_HOME"] = str(cache_home)
        matcher = ClaimMatcher(BaselineIndex.build_with_installed(corpus_refs()))
        for name, article in articles.items():
            figures.add(f"article.{name}.words", len(article.split()), "words")
            started = time.perf_counter()
            claims = extract_claims(article)
            results = matcher.match_many(claims)
            elapsed = time.perf_counter() - started
            figures.add(f"article.{name}.service", elapsed, "s")
            figures.add(f"article.{name}.claims", len(claims), "claims")
            figures.add(f"article.{name}.matched", sum(result.verdict != "none" for result in results), "claims")
            figures.add(f"article.{name}.per_claim", 1000 * elapsed / max(1, len(claims)), "ms")
            figures.add(f"article.{name}.cold_process", cold_process_seconds(article, cache_home), "s")
    figures.add("article.sentence_encoder", int(matcher.index.has_encoder), "installed")
    figures.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
