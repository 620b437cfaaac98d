# Two commands (see README): `make run` and `make test`.
# Python 3.10 is required by Rasa 3.6; the .python-version file makes pyenv pick it.
PYTHON ?= python3.10
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The website widget's socket.io client, from npm at the version widget/package-lock.json pins.
WIDGET := widget/node_modules/socket.io-client/dist/socket.io.min.js
# Debian's nginx spreads the production profile's traffic over several servers.
NGINX ?= /usr/sbin/nginx

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: run test lint bench bench-admin bench-compare nlu-data clean

run: $(STAMP) $(WIDGET) $(NGINX)
	$(PY) -m bot.launcher

test: $(STAMP) $(CHROMIUM) $(WIDGET) $(NGINX)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/foundation.py
	$(PY) benchmarks/admin_propagation.py
	$(PY) benchmarks/compare.py

# Plain `rasa init` and ours side by side (results in benchmarks/results/compare.*).
bench-compare: $(STAMP)
	$(PY) benchmarks/compare.py

bench-admin: $(STAMP)
	$(PY) benchmarks/admin_propagation.py

nlu-data: $(STAMP)
	$(PY) tools/nlu_generate.py

$(STAMP): requirements.txt requirements-dev.txt requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), "Rasa 3.6 needs Python 3.10: install it or set PYTHON=/path/to/python3.10"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c requirements.lock
	touch $(STAMP)

$(CHROMIUM):
	@echo "installing Debian's chromium for the browser tests"
	$(SUDO) apt-get install -y chromium || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

$(NGINX):
	@echo "installing Debian's nginx for the production profile and its tests"
	$(SUDO) apt-get install -y nginx-light || ($(SUDO) apt-get update && $(SUDO) apt-get install -y nginx-light)

$(WIDGET): widget/package.json widget/package-lock.json
	command -v npm >/dev/null || $(SUDO) apt-get install -y npm || ($(SUDO) apt-get update && $(SUDO) apt-get install -y npm)
	npm ci --prefix widget --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) models var widget/node_modules
