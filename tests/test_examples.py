"""Every `Examples:` block of the library runs: `>>>` lines as doctests, fenced ```python blocks as code.

A fenced block runs in its module's namespace, so it may use the module's own
names (and its imports); it passes when it raises nothing (its asserts included).
A block that reads the demo's model directory (`runs/demo`) reads the tiny
trained model of `conftest.trained_model_dir` instead.
"""

import doctest
import importlib
import pkgutil
import re

import pytest

import tf_seq2seq

MODULES = sorted(info.name for info in pkgutil.iter_modules(tf_seq2seq.__path__))
FENCED = re.compile(r"```python\n(.*?)```", re.S)


def fenced_examples():
    """`(module, index, code)` of every fenced ```python block in a docstring of the package."""
    found = []
    for name in MODULES:
        module = importlib.import_module(f"tf_seq2seq.{name}")
        tests = doctest.DocTestFinder(exclude_empty=True).find(module)
        for test in tests:
            for index, code in enumerate(FENCED.findall(test.docstring or "")):
                found.append((test.name, index, code))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"tf_seq2seq.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest lines of {name} failed"


@pytest.mark.parametrize("where,index,code", fenced_examples())
def test_fenced_examples_run(where, index, code, request, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # What an example writes (runs/...) stays out of the checkout.
    module = importlib.import_module(".".join(where.split(".")[:2]))
    if "runs/demo" in code:
        code = code.replace("runs/demo", request.getfixturevalue("trained_model_dir"))
    exec(compile(_dedent(code), f"<{where} example {index}>", "exec"), dict(vars(module)))


def _dedent(code):
    """The block without the docstring's indentation."""
    lines = code.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines)
