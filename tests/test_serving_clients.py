"""The examples/serving clients, the saved_model_cli wrapper and the Python API snippet of docs/serving.md.

Each check runs in a fresh process because the clients define absl flags of
their own. The gRPC request goes through the loaded SavedModel (as TF Serving
would run it) and the outputs come back as a real `PredictResponse`.
"""

import ast
import os
import re

from helpers import ROOT, last_json, run_client, run_python

EXAMPLES = os.path.join(ROOT, "examples", "serving")


def test_grpc_client_builds_requests_the_model_answers(exported_model):
    report = last_json(run_client("grpc_request", EXAMPLES, exported_model))
    assert report["sentences"] == ["Go.", "Hi."]
    assert report["inputs"] == {"beam_size": 3, "num_hypotheses": 2}
    translations, scores = report["parsed"]
    assert [row[0] for row in translations] == ["Va !", "Salut."]
    assert all(len(row) == 2 and row[0] >= row[1] for row in scores)


def test_rest_client_sends_columnar_inputs():
    beam = last_json(run_client("rest_request", EXAMPLES, "beam_search"))
    assert beam == {
        "signature_name": "beam_search",
        "inputs": {"sentences": ["Go."], "beam_size": 5, "num_hypotheses": 1},
    }
    default = last_json(run_client("rest_request", EXAMPLES, "serving_default"))
    assert default == {"signature_name": "serving_default", "inputs": {"sentences": ["Go."]}}


def test_saved_model_cli_wrapper_runs_signatures_the_stock_command_cannot(exported_model):
    args = ["run", "--dir", exported_model, "--tag_set", "serve", "--signature_def", "beam_search",
            "--input_exprs", 'sentences=["Go.", "Hi."];beam_size=3;num_hypotheses=2']
    stock = run_python(
        ["-c", "from tensorflow.python.tools import saved_model_cli; saved_model_cli.main()", *args]
    )
    assert stock.returncode != 0
    assert "Op type not registered 'NormalizeUTF8'" in stock.stderr
    wrapped = run_python([os.path.join(EXAMPLES, "saved_model_cli.py"), *args])
    assert wrapped.returncode == 0, wrapped.stderr[-3000:]
    translations = wrapped.stdout.split("Result for output key translations:")[1]
    rows = re.findall(r"\[([^\[\]]*)\]", translations.split("Result for")[0])
    assert [re.findall(r"b'([^']*)'", row)[0] for row in rows] == ["Va !", "Salut."]
    assert all(len(re.findall(r"b'", row)) == 2 for row in rows)


def readme_python_snippet():
    """The first ```python block of the "Python API" section of docs/serving.md (README.md's serving page)."""
    with open(os.path.join(ROOT, "docs", "serving.md"), encoding="utf-8") as f:
        page = f.read()
    section = page.split("\n## Python API\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_python_api_snippet_runs_against_an_export(exported_model):
    snippet = readme_python_snippet()
    assert '"saved_models/demo/1"' in snippet
    result = run_python(snippet.replace("saved_models/demo/1", exported_model), cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split(" -> ")[0] for line in lines[:2]] == ["How are you?", "I am hungry."]
    assert all(line.split(" -> ")[1] for line in lines[:2])
    nbest = ast.literal_eval(lines[2])
    assert len(nbest) == 3 and all(isinstance(t, str) for t in nbest)
