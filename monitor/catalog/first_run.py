"""First-run set-up shared by `monitor init`, `monitor run` and the web app: baseline, watch terms, sources."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from monitor.catalog.baseline_store import LoadReport, load_bundled_baseline
from monitor.catalog.sources import install_default_sources
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.storage.models import MetaEntry

# Defaults are installed once per database, so a term or source the user removed stays removed.
_DEFAULTS_KEY = "defaults_installed"


@dataclass(frozen=True)
class InitReport:
    baseline: LoadReport
    watch_terms_added: int
    sources_added: int

    @property
    def nothing_changed(self) -> bool:
        return not (self.baseline.articles_added or self.watch_terms_added or self.sources_added)


def initialise(session: Session) -> InitReport:
    """Load the bundled baseline articles not stored yet and, on a new database, the default terms and sources."""
    baseline = load_bundled_baseline(session)
    terms = sources = 0
    if session.get(MetaEntry, _DEFAULTS_KEY) is None:
        terms = install_default_watch_terms(session)
        sources = install_default_sources(session)
        session.add(MetaEntry(key=_DEFAULTS_KEY, value="1"))
        session.flush()
    return InitReport(baseline, terms, sources)
