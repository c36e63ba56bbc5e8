# Every target sets itself up: on a fresh machine `make demo` and `make test` create the
# virtual environment and install the project before running.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SAMPLE = src/reportedly/examples/slatest-sessions-offered-to-resign.txt
RUN_STAMP = $(VENV)/.installed-run
STAMP = $(VENV)/.installed-dev
SYSTEM_STAMP = $(VENV)/.system

.PHONY: demo test lint bench clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# pip 23 (the image's) mis-resolves trafilatura's lxml extra: upgrade first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: this spec takes the local CPU build; anything else pulls a CUDA build of GBs.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The tests drive Debian's Chromium (web page) and need Java (Spark): install them when missing.
$(SYSTEM_STAMP): | $(STAMP)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-dejavu-core"; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing \
	  || { echo "could not install$$missing (run as root, or install them yourself)"; exit 1; }; \
	fi
	touch $(SYSTEM_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/reportedly analyze $(SAMPLE) --outlet Slate

test: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
