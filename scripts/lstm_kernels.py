"""Which LSTM implementation the training step runs on this machine: cuDNN or Keras' loop.

    python scripts/lstm_kernels.py --flagfile=pipelines/demo.flags

Builds the model of the given flags (vocabulary sizes from the flags, weights
untrained), traces one training step's forward and backward pass on this
machine's devices, as `train` does, and counts the fused cuDNN LSTM ops in
the graph. On a GPU every encoder and decoder layer should be one
`CudnnRNNV3` (forward) and one `CudnnRNNBackpropV3` (gradient): 2 x
--num_layers of each. Fewer means Keras fell back to its generic loop,
because TensorFlow sees no GPU or a layer is not cuDNN-eligible.
"""

import collections

import tensorflow as tf
from absl import app

from tf_seq2seq import flags
from tf_seq2seq import model as model_lib

CUDNN_OPS = ("CudnnRNNV3", "CudnnRNNBackpropV3")


def op_counts(graph_def):
    """Op type -> count over a `GraphDef` and every function in its library."""
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    return collections.Counter(node.op for node in nodes)


def traced_step_ops(config):
    """Op counts of one traced training step (loss, gradients) of a fresh model of `config`."""
    seq2seq = model_lib.Seq2Seq(config, config.source_vocab_size, config.target_vocab_size)
    ids = tf.TensorSpec([None, None], tf.int32)

    @tf.function
    def step(source, target_in):
        with tf.GradientTape() as tape:
            logits = seq2seq.training_model({"source": source, "target_in": target_in}, training=True)
            loss = tf.reduce_sum(logits)
        return tape.gradient(loss, seq2seq.training_model.trainable_variables)

    return op_counts(step.get_concrete_function(ids, ids).graph.as_graph_def())


def main(argv):
    del argv
    config = flags.config_from_flags()
    counts = traced_step_ops(config)
    print(f"GPUs visible to TensorFlow: {len(tf.config.list_physical_devices('GPU'))}")
    for op in CUDNN_OPS:
        print(f"{op}: {counts[op]} (cuDNN on every layer: {2 * config.num_layers})")
    cudnn = all(counts[op] == 2 * config.num_layers for op in CUDNN_OPS)
    print("LSTMs run on cuDNN" if cudnn else "LSTMs run Keras' generic loop (no cuDNN)")



if __name__ == "__main__":
    app.run(main)
