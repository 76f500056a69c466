"""The tests mirror the library: `tf_seq2seq/<module>.py` has `tests/test_<module>.py`; test files share
only `helpers.py` (functions, constants) and `conftest.py`'s fixtures, never each other."""

import ast
import glob
import os

import pytest

from helpers import ROOT, TESTS

MODULES = sorted(
    os.path.basename(path)[: -len(".py")] for path in glob.glob(os.path.join(ROOT, "tf_seq2seq", "*.py"))
    if os.path.basename(path) != "__init__.py"
)
TEST_FILES = sorted(glob.glob(os.path.join(TESTS, "test_*.py")))


def test_the_library_is_found():
    assert {"training", "serving", "cli"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_its_test_file(module):
    assert os.path.exists(os.path.join(TESTS, f"test_{module}.py")), (
        f"tf_seq2seq/{module}.py has no tests/test_{module}.py: move the tests of {module} there "
        f"(or write a small real test of it)"
    )


def imported_modules(path):
    """The top-level names of the modules a Python file imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", TEST_FILES, ids=os.path.basename)
def test_test_files_import_no_other_test_file(path):
    own = {os.path.basename(p)[: -len(".py")] for p in TEST_FILES} | {"conftest", "tests"}
    imported = sorted(imported_modules(path) & own)
    assert not imported, (
        f"tests/{os.path.basename(path)} imports {', '.join(imported)}: share helpers through "
        f"tests/helpers.py and fixtures through tests/conftest.py"
    )
