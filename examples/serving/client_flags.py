"""Flags shared by the example clients: which model and signature to call, and how."""

from absl import flags

flags.DEFINE_string("model_name", "demo", "Model name on the server (its base directory name).")
flags.DEFINE_enum("signature", "serving_default", ["serving_default", "beam_search", "beam_search_xla"],
                  "Signature to call.")
flags.DEFINE_integer("beam_size", 4, "beam_search signatures: beam size.")
flags.DEFINE_integer("num_hypotheses", 1, "beam_search signatures: translations per sentence.")
flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server.")
FLAGS = flags.FLAGS


def beam_inputs():
    """`{"beam_size", "num_hypotheses"}` for the beam_search signatures, else `{}`."""
    if FLAGS.signature.startswith("beam_search"):
        return {"beam_size": FLAGS.beam_size, "num_hypotheses": FLAGS.num_hypotheses}
    return {}
