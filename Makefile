# Two commands: `make run` and `make test`. Both set up everything they need.
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
# The system interpreter carries Debian's `uno` module, which the LibreOffice listener
# (unoserver) needs; the venv sees it through --system-site-packages.
SYSPYTHON   := /usr/bin/python3
APT_PACKAGES := python3 python3-venv python3-uno libreoffice-writer-nogui fonts-noto-cjk fontconfig chromium postgresql poppler-utils
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system lint format bench clean

run: setup
	$(BIN)/hetong serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

setup: system $(STAMP)

# Install the Debian packages that are missing (and only those).
system:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml constraints.txt
	$(SYSPYTHON) -m venv --system-site-packages $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The rendering peer, Carbone 3.8.2, goes into bench/peer/node_modules (not committed); without
# npm the bench still prints hetong's figures and says the peer is missing.
bench: setup
	@if command -v npm >/dev/null; then \
	  (cd bench/peer && npm install --no-audit --no-fund --loglevel=error) || \
	    echo "npm install failed: the bench runs without Carbone"; \
	else echo "npm not found: the bench runs without Carbone"; fi
	$(BIN)/python bench/render.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/filing.py
	$(BIN)/python bench/reindex.py
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/backup.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
