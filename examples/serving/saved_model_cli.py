"""`saved_model_cli` for tf-seq2seq exports: the stock command, tf-text ops registered first.

The stock `saved_model_cli run` fails on these SavedModels with "Op type not
registered 'NormalizeUTF8'": it never imports tensorflow_text, whose ops the
tokenizers use. This script takes the same arguments:

    python examples/serving/saved_model_cli.py run --dir saved_models/demo/1 \\
        --tag_set serve --signature_def serving_default \\
        --input_exprs 'sentences=["How are you?"]'
"""

import sys

import tensorflow_text  # noqa: F401  Registers NormalizeUTF8 and the other tf-text ops.
from tensorflow.python.tools import saved_model_cli  # What the `saved_model_cli` command runs.

if __name__ == "__main__":
    sys.argv[0] = "saved_model_cli"
    saved_model_cli.main()
