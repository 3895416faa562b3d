# Two commands matter: `make run` (serve the chat) and `make test` (run the tests).
# Both create .venv/, install the CPU torch wheel first, then the project; both are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup index lint format bench eval clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: any other torch requirement would pull gigabytes of CUDA wheels.
	$(PY) -m pip install --disable-pip-version-check -q torch==2.13.0
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test,milvus,fast]'
	touch $(STAMP)

# After installing: the machine's one ONNX export of the model (qa/warm.py), so neither the
# first question nor any test pays it; instant when the shared cache already holds it.
setup: $(STAMP)
	$(PY) -m qa.warm

run: setup
	$(PY) app.py

test: setup
	$(PY) -m pytest -q

index: setup
	$(VENV)/bin/qa index

lint: setup
	$(VENV)/bin/ruff check qa app.py tests bench
	$(VENV)/bin/ruff format --check qa app.py tests bench

format: setup
	$(VENV)/bin/ruff format qa app.py tests bench
	$(VENV)/bin/ruff check --fix qa app.py tests bench

bench: setup
	$(PY) bench/bench.py

eval: setup
	$(VENV)/bin/qa eval tests/data/dev.jsonl
	$(VENV)/bin/qa eval tests/data/test.jsonl

clean:
	rm -rf embeddings .pytest_cache artifacts
