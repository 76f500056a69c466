"""Traces the training step under a 2-replica collective strategy and counts its gradient collectives.

    python tests/clients/count_collectives.py CORPUS_DIR MODEL_DIR

Splits the CPU into 2 logical devices, prepares MODEL_DIR (config and
vocabularies of `helpers.tiny_config` on CORPUS_DIR, batches of 8, Adam) and
traces `train_step.make_train_step`. Dense gradients are packed into one
CollectiveReduceV2 per replica and all-reduce (its input is not a scalar;
scalars are the token count and the metrics); each sparse gradient is
gathered inside one `cond` (equal or padded row counts) per replica and
all-reduce. Prints one JSON line: `{"dense": N, "sparse": N, "replicas": N}`.
"""

import json
import os
import sys

import tensorflow as tf

from tf_seq2seq import corpus, distribution, pipeline, tokenizer
from tf_seq2seq import model as model_lib
from tf_seq2seq import model_dir as model_dir_lib
from tf_seq2seq import optimization, train_step

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
from helpers import tiny_config  # noqa: E402

distribution.split_cpu(2)
# The public constructor takes its cluster from TF_CONFIG; TensorFlow's own
# tests build a one-process, two-device collective strategy this way.
strategy = tf.distribute.MultiWorkerMirroredStrategy._from_local_devices(["/cpu:0", "/cpu:1"])
config = tiny_config(sys.argv[1], batch_size=8, optimizer="adam")
model_dir = sys.argv[2]
model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))
source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
pairs = corpus.load(config.dataset, config.train_split, config.source_lang, config.target_lang,
                    config.data_dir)
batches = pipeline.training_batches(pairs, source, target, config)
with strategy.scope():
    seq2seq = model_lib.for_model_dir(config, model_dir)
    optimizer = optimization.make_optimizer(config)
    optimizer.build(seq2seq.training_model.trainable_variables)
step = train_step.make_train_step(strategy, seq2seq, optimizer, config.clip_norm, batches.element_spec)
graph = step.get_concrete_function().graph
dense = [op for op in graph.get_operations()
         if op.type == "CollectiveReduceV2" and op.inputs[0].shape.num_elements() != 1]
branches = [f for f in graph.as_graph_def().library.function
            if any(node.op == "CollectiveGatherV2" for node in f.node_def)]
print(json.dumps({"dense": len(dense), "sparse": len(branches) // 2,
                  "replicas": strategy.num_replicas_in_sync}))
