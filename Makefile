# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium

.PHONY: run test screenshots install browser nginx spark java demo clean-store

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m ingest.demo --if-empty

run: demo
	$(PY) -m streamlit run serve.py

# Browser tests use Debian's Chromium and a CJK font (Chinese screenshots); installed when missing.
browser:
	@{ test -x $(CHROMIUM) && fc-list 2>/dev/null | grep -qi wqy; } || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-wqy-zenhei; }

# tests/test_deploy.py runs deploy/nginx.conf for real: Debian's nginx, installed when missing.
nginx:
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q nginx-light; }

# The Spark engine (docs/scale-out.md): pyspark and SQLGlot, pinned apart so that `make run` stays light,
# and Debian's Java 17 runtime when `java` is missing.
$(VENV)/.spark-installed: requirements-spark.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-spark.txt
	touch $@

java:
	@command -v java >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q openjdk-17-jre-headless; }

spark: $(VENV)/.spark-installed java

# Two workers, a test file each (its module fixtures built once): the browser and Spark tests wait on other
# processes, so two run in about the time of one on a 2-core machine.
test: install browser nginx spark
	$(PY) -m pytest --numprocesses 2 --dist loadfile

# The screenshot review set (docs/screens.md): every page x language x presentation mode, on the demo and
# on the real exports, each pictured whole in tests/artifacts/ for a person to look at.
screenshots: install browser
	REVIEW_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py tests/test_browser_chinese.py -k "screenshots_of or every_page"

clean-store:
	rm -rf data/store data/demo
