# Linli — the two front-door commands are `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test venv assets migrate demo lint messages bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# ECharts and Leaflet, pinned in package-lock.json, served from web/static/vendor (not committed).
VENDOR := web/static/vendor
$(VENDOR)/.installed: package.json package-lock.json Makefile
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(VENDOR)/leaflet $(VENDOR)/echarts
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(VENDOR)/echarts/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	touch $@

assets: $(VENDOR)/.installed

venv: $(VENV)/.installed assets

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	$(PY) manage.py serve --port $(PORT)

test: venv
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

# ruff, and the layers of ARCHITECTURE.md: an import that points up fails the build.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Needs GNU gettext (apt-get install gettext); the compiled .mo files are committed.
messages: venv
	for app in linli accounts regions registry insights workorders mediation fieldwork api web; do \
	  (cd $$app && ../$(PY) ../manage.py makemessages -l zh_Hans --no-obsolete --add-location file --ignore 'tests/*') || exit 1; done
	$(PY) manage.py compilemessages --ignore '.venv' --ignore 'var' --ignore 'bench' --ignore 'node_modules'

bench: venv
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var/*.sqlite3* var/media var/static
