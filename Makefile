# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-fast soak lint bench system-deps clean

install: $(STAMP) bundle

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "VoiceLab needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# System pieces the suite needs: redis-server for the Celery tests, Chromium for the browser tests,
# Node.js for the widgets' JavaScript tests.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The ranking board's shipped rank_board.js and .css, built by esbuild (scripts/bundle.mjs) from
# voicelab/widgets/rank_board/ only when scripts/bundle_check.py finds them stale, so a clone whose
# built files match their sources needs no npm. js-deps: the npm packages, when the lockfile moves.
.PHONY: bundle js-deps
bundle:
	@$(PYTHON) scripts/bundle_check.py || { $(MAKE) --no-print-directory js-deps && node scripts/bundle.mjs; }

js-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

run: install
	$(BIN)/voicelab serve

test: install system-deps js-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not integration and not browser"

# The reliability soak for longer than `make test` runs it: jobs, rank changes and a worker kill.
soak: install system-deps
	SOAK_SECONDS=$${SOAK_SECONDS:-120} $(BIN)/python -m pytest -m soak tests/soak -v

# Style, types and the import boundaries (the core imports no face): part of `make test`.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis test-artifacts
