# Every target sets itself up: on a fresh machine `make demo` and `make test` create the
# virtual environment and install the project before running.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SAMPLE = src/reportedly/examples/slatest-sessions-offered-to-resign.txt
STAMP = $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# pip 23 (the image's) mis-resolves trafilatura's lxml extra: upgrade first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reportedly analyze $(SAMPLE) --outlet Slate

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
