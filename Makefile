# The two commands: `make run` and `make test`. Each sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run playground playground-check screenshots test lint typecheck imports pytest setup bench clean postgres-binaries dovecot-binaries chromium-binaries package faketime test-anytime

# The virtual environment is refreshed whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Microsoft's Adaptive Cards SDK, used by the tests to validate every card, and its renderer with the
# Teams host configs (adaptivecards-designer) and playwright-core, used to render every card in Chromium.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is required for the card checks"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# PostgreSQL server binaries for the test database (started by the tests in a temporary directory).
postgres-binaries:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL server binaries"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

# libfaketime (Debian's faketime), for make test-anytime.
faketime:
	@if ! command -v faketime >/dev/null; then \
		echo "installing faketime"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; \
	fi

# The clock-related suites with the whole process tree (pytest, the bot processes it starts,
# PostgreSQL, node) living at each instant below (UTC; see docs/anyhour.md). One instant:
#   make test-anytime ANYTIME_AT="2026-12-07 08:35:00"
ANYTIME_AT ?= 2026-12-07 08:35:00|2026-12-09 18:00:00|2026-12-12 12:00:00|2026-12-28 10:00:00|2026-10-25 00:58:00
ANYTIME_TESTS ?= tests/scheduler tests/reliability tests/bot/test_alerts.py tests/bot/test_duty.py \
	tests/bot/test_cli.py tests/bot/test_settings.py tests/bot/test_dedup.py tests/bot/test_worklists.py \
	tests/bot/test_intake_stale.py tests/store/test_leader.py tests/store/test_processed_activities.py \
	tests/frontdoor/test_handover.py tests/frontdoor/test_dispatch.py tests/frontdoor/test_continuity.py \
	tests/bot/test_continuity.py tests/bot/test_urgent_unknowns.py tests/mail/test_watcher.py
test-anytime: $(VENV)/.installed node_modules/.installed postgres-binaries faketime chromium-binaries
	@instants='$(ANYTIME_AT)'; IFS='|'; for at in $$instants; do \
		echo "== make test-anytime at $$at UTC"; \
		TZ=UTC FAKETIME_DONT_RESET=1 faketime -m -f "@$$at" \
			$(VENV)/bin/pytest -q -p no:cacheprovider $(ANYTIME_TESTS) || exit 1; \
	done

# Debian's Chromium, in which the tests render every card (driven by playwright-core; no browser download).
chromium-binaries:
	@if ! test -x /usr/bin/chromium; then \
		echo "installing Chromium for the card rendering check"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Dovecot for the test IMAP server (started by the tests in a temporary directory, see tests/imap.py).
dovecot-binaries:
	@if ! test -x /usr/sbin/dovecot; then \
		echo "installing Dovecot (dovecot-imapd) for the test mailbox"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	fi

setup: $(VENV)/.installed

# The command line reads .env (when present) for whatever the environment does not set.
run: $(VENV)/.installed
	@mkdir -p var
	$(VENV)/bin/frontdoor-bot db upgrade
	@if [ -z "$$MicrosoftAppId" ] && ! grep -qsE '^(export +)?MicrosoftAppId *= *[^ #]' .env; then export FRONTDOOR_AUTH=off; fi; \
		$(VENV)/bin/frontdoor-bot serve

# The bot in demo mode and Microsoft 365 Agents Playground in front of it (see docs/demo.md).
# `make playground ROLE=consultant`: the Playground's user is the demo consultant (default officer).
playground: $(VENV)/.installed node_modules/.installed
	@PLAYGROUND_AS="$(ROLE)" ./scripts/playground.sh

# On a fresh clone of the committed tree: `make playground`, then its URL in headless Chromium
# reaches the help card as a member of staff, then Ctrl-C stops both (minutes: it sets up the clone).
playground-check: node_modules/.installed chromium-binaries
	./scripts/playground-check.sh

# Every card a person meets, as the Playground shows it, into docs/screenshots/ (see docs/demo.md).
screenshots: $(VENV)/.installed node_modules/.installed chromium-binaries
	node scripts/screenshots.js

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

imports: $(VENV)/.installed
	$(VENV)/bin/lint-imports

# Two workers, one a core; the reliability tests time real bot processes, so they run on their own.
PYTEST := $(VENV)/bin/pytest -q -p no:cacheprovider
pytest: $(VENV)/.installed node_modules/.installed postgres-binaries dovecot-binaries chromium-binaries
	$(PYTEST) -n 2 --durations=12 --ignore=tests/reliability
	$(PYTEST) --durations=4 tests/reliability

test: lint typecheck imports pytest

bench: $(VENV)/.installed postgres-binaries
	$(PY) -m tests.bench

# The Teams app package: manifest (command lists generated from frontdoor/commands.py) and icons.
# The ids come from the environment: TEAMS_APP_ID (the Teams app) and MicrosoftAppId (the bot).
PACKAGE ?= dist/frontdoor-bot.zip
package: $(VENV)/.installed
	$(PY) -m bot.manifest --app-id "$$TEAMS_APP_ID" --bot-id "$$MicrosoftAppId" \
		--domain "$$FRONTDOOR_BOT_DOMAIN" --output "$(PACKAGE)"

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
