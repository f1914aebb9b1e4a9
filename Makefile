# Two set-up commands: `make demo` and `make test`. Each installs what is missing first: Debian packages
# (Debian's python3.11 for the virtualenv, mosquitto, pcscd + vpcd, socat, PostgreSQL for the hub
# tests, Chromium and a CJK font for the console tests, shellcheck, mmdebstrap/debootstrap for the
# bare-OS provisioning test), the virtualenv in .venv/, the project itself, and the console's compiled
# message catalogs.

# The virtualenv's interpreter: Debian's python3.11, the one Raspberry Pi OS (bookworm) runs on every
# lane, so the tests run the controller's code on the lanes' own Python. Debian builds it with
# profile-guided and link-time optimisation and the interpreter linked statically; a python3 built
# from source without them (pyenv's 3.11.7 here, --enable-shared) runs the same code ~25 % slower: a
# pure-Python loop, json, re, dataclasses and compile() 0.49-0.50 s of CPU against 0.62-0.65 s; make
# test warm on the same tree 5:31 (575 CPU-s) against 5:50-6:10 (619-657). A .venv made from
# another interpreter is made again.
PYTHON   ?= /usr/bin/python3.11
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
APT_PKGS := python3.11 python3.11-venv python3.11-dev \
            mosquitto mosquitto-clients pcscd libpcsclite-dev vsmartcard-vpcd socat postgresql-15 \
            chromium-headless-shell shellcheck mmdebstrap debootstrap \
            espeak-ng sox alsa-utils fonts-wqy-zenhei fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
# libpango*: weasyprint (the console's PDFs, hub/console/pdf.py, a pip dependency) lays text out with
# pango through cffi; fonts-noto-cjk is the CJK face its documents name and embed.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS     ?=
# pytest-xdist: two workers a core (the tests wait on brokers, hubs, lanes and Chromium about half
# their time: 1,410 worker-seconds for ~770 CPU-s; make test on 2 cores, back to back on a quiet
# machine: 7 min 31 s with 3 workers, 6 min 59 s with 4; 5, tried once on Debian's python3.11,
# showed no gain the machine's drift would not hide: 6:20, then 4 workers 6:45 right after);
# loadgroup keeps each xdist_group on one worker (tests/conftest.py puts every pcscd test in one).
# PYTEST_WORKERS=0: the suite in one process.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
PYTEST_ARGS    ?=

# Byte-compiled modules and pytest's rewritten test modules are cached under .venv/ (not next to the
# sources), even where PYTHONDONTWRITEBYTECODE is set: without the cache every test process, and
# every hub process a test starts, compiles the project again (collection ≈11 s of CPU, ≈6 s with it).
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
unexport PYTHONDONTWRITEBYTECODE
# How long each test module took last time, and its CPU: a parallel run starts the longest first, the
# modules that mostly wait interleaved with those that compute (tests/support/ordering.py).
export SITEGATE_TEST_DURATIONS := $(abspath $(VENV))/test-durations.json

.PHONY: demo test pytest console-shots anyhour lint typecheck unit system-deps venv venv-interpreter clean prompts catalogs i18n-extract

demo: venv
	$(VENV)/bin/sitegate demo $(ARGS)

# Lint and typecheck (seconds with ruff's and mypy's caches) and the any-hour check run alongside the
# tests; make waits for all four and fails if any does.
test: venv
	@$(MAKE) --no-print-directory -j4 lint typecheck anyhour pytest PYTEST_SELECT='$(LEFT_TO_ANYHOUR)'

# What make test's main run leaves to the any-hour check, which runs each of these tests four times
# at pinned clocks (the negation of tests/anyhour/run.py's CLOCK_SENSITIVE; tests/anyhour/test_run.py
# holds the two together): a fifth run at whatever the real time is proves nothing the pins do not,
# and costs ~35 CPU-s. `make pytest` alone still runs them.
LEFT_TO_ANYHOUR := -m "not (any_hour and not postgres and not pcscd)"
PYTEST_SELECT   ?=

# The clock-sensitive tests again, with every process's wall clock pinned to 00:30, 05:59:59, 20:00:00
# and 23:59:59 Beijing time and across a local midnight: one pytest session on two workers runs each
# test once per pin (tests/anyhour/run.py; its log in artifacts/anyhour.log).
anyhour: venv
	$(PY) -m tests.anyhour.run --parallel 2

# The console tests again, photographing every page they visit into artifacts/console/ (make test
# leaves the pictures out: tests/console/conftest.py says why).
console-shots: venv
	SITEGATE_CONSOLE_SHOTS=1 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests/console $(PYTEST_ARGS)
pytest: venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_SELECT) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: venv
	$(VENV)/bin/mypy

# The lane's voice prompts (espeak-ng's Mandarin, trimmed and normalised by sox), one WAV per reason
# and idle state of wire/labels.py; the image build makes them into /opt/sitegate/prompts.
PROMPTS_DIR ?= var/prompts
prompts: venv
	$(PY) -m controller.feedback.prompts $(PROMPTS_DIR)

venv: system-deps venv-interpreter $(STAMP) catalogs

# The console's languages (hub/console/i18n.py): each messages.po compiled to its .mo, which the
# console loads (the .mo files are build products, not committed). `make i18n-extract` after marking
# new strings: it re-extracts messages.pot (babel.cfg) and merges it into every messages.po; then
# write the zh_CN msgstr of each new entry (tests/console/test_catalogs.py fails until they are).
LOCALES  := hub/console/locale
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po))
catalogs: $(CATALOGS)

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@ -l $*

i18n-extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -o $(LOCALES)/messages.pot --no-location --sort-output \
	  --project=SiteGate .
	$(VENV)/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching \
	  --ignore-obsolete

# Installs only the Debian packages that are not there yet (dpkg-query is cheap; apt-get update is not).
system-deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# A .venv made from another interpreter than $(PYTHON) (an older checkout's, a python3 on PATH) is
# removed first, and made again below: pip's wheels for it may not fit, and it is the slower one.
VENV_FROM := $(VENV)/.made-from
venv-interpreter:
	@want="$$(readlink -f "$$(command -v $(PYTHON))")"; have="$$(cat $(VENV_FROM) 2>/dev/null)"; \
	if [ -z "$$want" ] || [ ! -x "$$want" ]; then echo "no $(PYTHON): make system-deps installs it" >&2; exit 1; fi; \
	if [ -d $(VENV) ] && [ "$$have" != "$$want" ]; then \
	  echo "$(VENV) was made from $${have:-another interpreter}, not $$want: making it again"; \
	  rm -rf $(VENV); \
	fi

$(STAMP): pyproject.toml
	[ -x $(PY) ] || { $(PYTHON) -m venv $(VENV) && readlink -f "$$(command -v $(PYTHON))" > $(VENV_FROM); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[controller,hub,dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
