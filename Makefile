# Two commands do everything on a fresh clone (Python 3.11, no GPU needed):
#   make demo   train on the bundled sample, evaluate BLEU, export, translate
#   make test   run the test suite (without the tests marked slow; make test-all runs them too)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= runs/demo
DEMO_EXPORT ?= saved_models/demo
DEMO_SENTENCES ?= pipelines/demo_sentences.en
# pytest-xdist processes; each takes whole test files (their module fixtures stay shared).
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: demo test test-all test-slow install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.py | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(PY) -m tf_seq2seq.train --flagfile=pipelines/demo.flags --model_dir=$(DEMO_DIR)
	$(PY) -m tf_seq2seq.evaluate --model_dir=$(DEMO_DIR) --split=test
	path=$$($(PY) -m tf_seq2seq.export --model_dir=$(DEMO_DIR) --export_dir=$(DEMO_EXPORT)) && \
	  echo "exported $$path" && \
	  $(PY) -m tf_seq2seq.translate --saved_model=$$path --input=$(DEMO_SENTENCES) | \
	  paste $(DEMO_SENTENCES) -

test: install-test
	$(PYTEST)

test-all: install-test
	$(PYTEST) -m "slow or not slow"

test-slow: install-test
	$(PYTEST) -m slow

clean:
	rm -rf $(DEMO_DIR) $(DEMO_EXPORT)
