"""tf-seq2seq: Sutskever, Vinyals & Le (2014) sequence-to-sequence learning in TF/Keras.

The package is organised one module per concept (see README.md):
``corpus`` -> ``vocab`` -> ``tokenizer`` -> ``pipeline`` -> ``model`` -> ``training``;
``decoding`` + ``serving`` turn a trained model into a SavedModel; ``evaluation``
scores it; ``scoring`` and ``nbest`` score given translations and re-rank n-best
lists. The command-line entry points (``train``, ``evaluate``, ``export``,
``translate``, ``score``) are thin wrappers over these modules.

Importing the package does not import TensorFlow.
"""

__version__ = "0.1.0"
