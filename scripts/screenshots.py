"""Write PNGs of the main pages into docs/screenshots/, for the README.

    .venv/bin/python scripts/screenshots.py                      # demo data in a throwaway SQLite database
    .venv/bin/python scripts/screenshots.py --db sqlite:///demo.db   # an existing database (e.g. `make demo`'s)

Drives Debian's Chromium (/usr/bin/chromium, `apt-get install chromium`) through Playwright for Python;
no browser is downloaded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from alerts.digest import local_today
from monitor.config import load_settings
from monitor.storage.engine import make_engine, migrate
from monitor.storage.models import Match, utcnow
from monitor.web.app import create_app
from monitor.web.server import serving_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_data import seed_demo  # a sibling script, not a package

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    width: int = 1280
    height: int = 900
    full_page: bool = False


def _busiest_claim(engine: Engine) -> int | None:
    """The baseline claim with the most matches: the timeline worth showing."""
    with Session(engine) as session:
        query = (
            select(col(Match.baseline_claim_id), func.count())
            .group_by(col(Match.baseline_claim_id))
            .order_by(func.count().desc())
        )
        row = session.exec(query).first()
    return row[0] if row else None


def shots(engine: Engine, today: str) -> list[Shot]:
    claim = _busiest_claim(engine)
    found = [
        Shot("today", "/"),
        Shot("matches", "/matches", height=1000),
        Shot("baseline", "/baseline"),
        Shot("digest", f"/digests/{today}", full_page=True),
        Shot("watch", "/watch"),
        Shot("sources", "/sources"),
        Shot("matches-mobile", "/matches", width=390, height=844),
    ]
    if claim is not None:
        found.insert(3, Shot("baseline-claim", f"/baseline/{claim}", full_page=True))
    return found


def capture(page: Page, base_url: str, shot: Shot, out_dir: Path) -> Path:
    page.set_viewport_size({"width": shot.width, "height": shot.height})
    page.goto(base_url + shot.path, wait_until="load")
    target = out_dir / f"{shot.name}.png"
    page.screenshot(path=str(target), full_page=shot.full_page)
    return target


@contextmanager
def demo_engine(database_url: str | None) -> Iterator[Engine]:
    """The given database, or a new temporary one filled with the demo coverage."""
    if database_url:
        engine = make_engine(database_url)
        migrate(engine)
        yield engine
        engine.dispose()
        return
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/demo.db")
        migrate(engine)
        seed_demo(engine, now=utcnow())
        yield engine
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL to show (default: fresh demo data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with demo_engine(args.db) as engine:
        settings = load_settings()
        app = create_app(settings, engine)
        with serving_in_thread(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(device_scale_factor=1)
            for shot in shots(engine, local_today(settings.zone).isoformat()):
                print(capture(page, base_url, shot, args.out))
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
