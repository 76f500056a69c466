"""Where one translation request spends its time, as TF Serving runs it (TF1 session).

    taskset -c 1 .venv/bin/python bench/decode_profile.py --saved_model=DIR/1 [--batch_size=1]

Loads the SavedModel in a `tf.compat.v1.Session` on one thread (TF Serving's
loader), times the `beam_search` signature at beam 5 over Multi30k test2016
(the first `--sentences`, batched by length), then traces the same requests
(`RunOptions.FULL_TRACE`) and splits the traced op time into phases: text
(tokenizing, vocabulary look-ups, detokenizing), encoder, beam steps, the
read-back of the finished hypotheses, and the rest; and, inside the beam
steps, by op type. Tracing slows every op, so the phases are shown as shares
of the traced time, next to the untraced milliseconds per sentence.
"""

import argparse
import collections
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_text  # noqa: E402, F401  (registers the tokenizers' ops)

from tf_seq2seq import corpus  # noqa: E402

MULTI30K_TEST = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr", "test2016.en"
)
# Op types of the in-graph tokenizers and detokenizer.
TEXT_OPS = ("Regex", "String", "Lookup", "Wordpiece", "Unicode", "ReduceJoin", "Ragged", "Utf8")


def phase(node_name, op_type):
    """The phase an op of the `beam_search` signature belongs to."""
    if any(op_type.startswith(prefix) for prefix in TEXT_OPS):
        return "text"
    name = node_name.split("StatefulPartitionedCall/")[-1]
    if "encoder" in name:
        return "encoder"
    if name.startswith("while/"):
        return "beam steps"
    if name.startswith("while_1/"):
        return "read-back"
    return "other"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True)
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--beam_size", type=int, default=5)
    args = parser.parse_args()
    sentences = sorted(corpus.read_lines(MULTI30K_TEST)[: args.sentences], key=lambda s: len(s.split()))
    batches = [sentences[i : i + args.batch_size] for i in range(0, len(sentences), args.batch_size)]
    tf1 = tf.compat.v1
    graph = tf.Graph()
    config = tf1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with graph.as_default(), tf1.Session(graph=graph, config=config) as session:
        signature = tf1.saved_model.load(session, ["serve"], args.saved_model).signature_def["beam_search"]
        inputs = {key: value.name for key, value in signature.inputs.items()}
        fetches = {key: value.name for key, value in signature.outputs.items()}

        def run(batch, **options):
            feed = {inputs["sentences"]: batch, inputs["beam_size"]: args.beam_size,
                    inputs["num_hypotheses"]: 1}
            return session.run(fetches, feed, **options)

        run(batches[0])  # Warm-up.
        start = time.process_time()
        for batch in batches:
            run(batch)
        per_sentence = 1000 * (time.process_time() - start) / len(sentences)
        phases, step_ops, steps = collections.Counter(), collections.Counter(), 0
        trace = tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE)
        for batch in batches:
            metadata = tf1.RunMetadata()
            run(batch, options=trace, run_metadata=metadata)
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    op_type = node.timeline_label.split(" = ")[-1].split("(")[0] if " = " in node.timeline_label else "?"
                    micros = node.op_end_rel_micros - node.op_start_rel_micros
                    where = phase(node.node_name, op_type)
                    phases[where] += micros
                    if where == "beam steps":
                        step_ops[op_type] += micros
                        steps += op_type in ("LogSoftmax", "Softmax", "_MklSoftmax")  # One softmax per step.
    total = sum(phases.values())
    print(f"{len(sentences)} sentences, batch {args.batch_size}, beam {args.beam_size}: "
          f"{per_sentence:.2f} CPU-ms per sentence untraced, "
          f"{steps / len(batches):.1f} beam steps per request")
    for name, micros in phases.most_common():
        print(f"  {name:12s} {100 * micros / total:5.1f}% of the traced time")
    beam_total = phases["beam steps"]
    print("inside the beam steps, by op type:")
    for op_type, micros in step_ops.most_common(12):
        print(f"  {op_type:28s} {100 * micros / beam_total:5.1f}%")


if __name__ == "__main__":
    main()
