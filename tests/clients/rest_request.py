"""Prints the JSON body examples/serving/rest_client.py sends for "Go." (beam 5).

    python tests/clients/rest_request.py EXAMPLES_DIR SIGNATURE

EXAMPLES_DIR is examples/serving; SIGNATURE e.g. `beam_search` or
`serving_default`. Prints one JSON line: `rest_client.request_body`.
"""

import json
import sys

sys.path.insert(0, sys.argv[1])
import rest_client  # noqa: E402

rest_client.FLAGS(["rest_client", "--signature=" + sys.argv[2], "--beam_size=5"])
print(json.dumps(rest_client.request_body(["Go."])))
