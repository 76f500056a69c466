"""tf-seq2seq against the OpenNMT-tf 2.32 and OpenNMT-py 3.5.1 peers, with their model and settings, on Multi30k.

    taskset -c 1 .venv/bin/python bench/peer.py --steps=2000 [--mixed_precision=mixed_bfloat16] [--peer] [--peer_py]
    taskset -c 1 .venv/bin/python bench/peer.py --model_dir=DIR --decode_only [--full_softmax]
    taskset -c 1 .venv/bin/python bench/peer.py --set=seed=2 --set=loss_normalization=tokens

Trains our 2 x 256 attention-free LSTM with the peer's settings
(../shared/peers/onmt/README.md: reversed source, Adam 1e-3, batch 64, clip 5,
10k vocabularies) for `--steps` steps through the `train` CLI, exports it, and
decodes the 1000 Multi30k test2016 sentences through the SavedModel's
`beam_search` signature at beam 5, batch 32 and batch 1 (one untimed warm-up
call each); `--decode_only` exports and decodes the model already trained in
`--model_dir`. Our exports use the vocabulary shortlist (the default);
`--full_softmax` also exports with `--noshortlist` and decodes that too (a
second column). `--set NAME=VALUE` changes one of our
settings (any `Config` field, e.g. for an ablation; decoding ones apply to
the exports too, e.g. `--set=shortlist_words=30`). With `--peer` it then runs
`../shared/peers/onmt/run.sh STEPS` (OpenNMT-tf), with `--peer_py`
`../shared/peers/onmt_py/run.sh STEPS` (OpenNMT-py, the quality reference;
its first run installs PyTorch). It prints, for every side and as ratios: training CPU-seconds and peak RSS
(`/usr/bin/time` of the training process), sentences per CPU-second of
decoding (this process's CPU time, tokenization and detokenization included),
and test2016 BLEU (sacrebleu, cased 13a, on detokenized text).

Compare on one pinned core (`taskset -c N`): CPU-seconds, not wall time.
"""

import argparse
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tf_seq2seq import config as config_lib  # noqa: E402
from tf_seq2seq import corpus, evaluation, inference, serving  # noqa: E402
from tf_seq2seq import model_dir as model_dir_lib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "multi30k_en_fr")
PEERS = {  # Flag -> (name in the table, script).
    "peer": ("OpenNMT-tf 2.32", os.path.join(HERE, "..", "..", "shared", "peers", "onmt", "run.sh")),
    "peer_py": ("OpenNMT-py 3.5.1", os.path.join(HERE, "..", "..", "shared", "peers", "onmt_py", "run.sh")),
}
# The peer's model and training settings (its README), on our flags.
PEER_SETTINGS = dict(
    train_split="train", eval_split="val", test_split="test2016",
    num_layers=2, units=256, embedding_dim=256, optimizer="adam", learning_rate=0.001,
    batch_size=64, clip_norm=5.0, source_vocab_size=10000, target_vocab_size=10000,
    max_source_length=50, max_target_length=50, reverse_source=True, beam_size=5,
)
BATCHES = (32, 1)


def timed_run(command):
    """Runs `command` under `/usr/bin/time`; returns (CPU-seconds, peak RSS in bytes)."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *command],
                       check=True, stdout=subprocess.DEVNULL)
        user, system, rss_kb = report.read().split()[-3:]
    return float(user) + float(system), int(rss_kb) * 1024


def train(config, model_dir):
    """Trains with the `train` CLI; returns (CPU-seconds, peak RSS)."""
    model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))  # Vocabularies, outside the timed run.
    flags = [f"--{name}={value}" for name, value in dataclasses.asdict(config).items()]
    return timed_run([sys.executable, "-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags])


def export(model_dir, flags):
    """Exports the latest checkpoint to a new version under MODEL_DIR/export with `flags`; returns its path."""
    export_dir = os.path.join(model_dir, "export")
    return subprocess.run(
        [sys.executable, "-m", "tf_seq2seq.export", f"--model_dir={model_dir}", f"--export_dir={export_dir}",
         *flags],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout.split()[-1]


def warm_up(signature, sentences, beam_size, batch_size):
    """Translates one batch of `sentences` (traces the signature's batch shapes) before timing."""
    inference.translate_texts(signature, sentences[:batch_size], beam_size, 1, batch_size)


def timed_translations(signature, sentences, beam_size, batch_size):
    """Translates `sentences` with a `beam_search` signature; returns (CPU-seconds of this process, best translations)."""
    start = time.process_time()
    nbest = inference.translate_texts(signature, sentences, beam_size, 1, batch_size)
    return time.process_time() - start, [hypotheses[0][0] for hypotheses in nbest]


def decode(saved_model, sentences, beam_size, batch_size):
    """Translates `sentences`; returns (translations, sentences per CPU-second of this process)."""
    signature = serving.load(saved_model).signatures["beam_search"]
    warm_up(signature, sentences, beam_size, batch_size)
    seconds, translations = timed_translations(signature, sentences, beam_size, batch_size)
    return translations, len(sentences) / seconds


def overrides(assignments):
    """`{name: value}` from `NAME=VALUE` strings, each value of its `Config` field's type."""
    types = {field.name: field.type for field in dataclasses.fields(config_lib.Config)}
    changes = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if name not in types:
            raise SystemExit(f"--set {assignment}: no setting named {name!r}")
        kind = types[name]
        changes[name] = value.lower() in ("1", "true") if kind is bool else kind(value)
    return changes


def ours(args):
    """Our figures, `{side: figures}`: `train_cpu_s`, `train_rss`, `sent_per_cpu_s_bN`, `bleu`.

    The sides are `tf-seq2seq` and, with `--full_softmax`, `tf-seq2seq
    --noshortlist` (the same model, decoding figures only).
    """
    changes = overrides(args.set)
    settings = {**PEER_SETTINGS, "checkpoint_every_steps": args.steps, **changes}
    config = config_lib.Config(
        dataset=f"files:{DATA}", train_steps=args.steps, epochs=100, log_every_steps=100,
        mixed_precision=args.mixed_precision, **settings,
    )
    model_dir = args.model_dir or tempfile.mkdtemp(prefix="peer_bench_")
    results = {"tf-seq2seq": {}}
    if not args.decode_only:
        results["tf-seq2seq"]["train_cpu_s"], results["tf-seq2seq"]["train_rss"] = train(config, model_dir)
    decoding_flags = [f"--{name}={value}" for name, value in changes.items()
                      if name in config_lib.field_names(group="decoding")]
    exports = {"tf-seq2seq": export(model_dir, decoding_flags)}
    if args.full_softmax:
        exports["tf-seq2seq --noshortlist"] = export(model_dir, [*decoding_flags, "--noshortlist"])
        results["tf-seq2seq --noshortlist"] = {}
    sources = corpus.read_lines(os.path.join(DATA, "test2016.en"))
    references = [[line] for line in corpus.read_lines(os.path.join(DATA, "test2016.fr"))]
    for side, saved_model in exports.items():
        for batch_size in BATCHES:
            translations, results[side][f"sent_per_cpu_s_b{batch_size}"] = decode(
                saved_model, sources, config.beam_size, batch_size
            )
            if batch_size == BATCHES[0]:
                results[side]["bleu"] = evaluation.score(translations, references)["bleu"]
    print(f"(our model directory: {model_dir})", flush=True)
    return results


def peer(script, steps):
    """A peer's figures, parsed from its `run.sh STEPS` (its training line only on a fresh run)."""
    output = subprocess.run(["bash", script, str(steps)], check=True, capture_output=True, text=True).stdout
    results = {}
    train = re.search(r"cpu_s=([\d.]+)\+([\d.]+).*max_rss_kb=(\d+)", output)
    if train:
        results["train_cpu_s"] = float(train.group(1)) + float(train.group(2))
        results["train_rss"] = int(train.group(3)) * 1024
    for batch_size, rate in zip(BATCHES, re.findall(r"sent_per_cpu_s=([\d.]+)", output)):
        results[f"sent_per_cpu_s_b{batch_size}"] = float(rate)
    bleu = re.search(r"BLEU ([\d.]+)", output)
    if bleu:
        results["bleu"] = float(bleu.group(1))
    return results


def report(steps, ours_results, peers):
    """Prints a Markdown table of every side and each of our figures over each peer's.

    Args:
        steps: training steps.
        ours_results: `{side: figures}` of ours (`ours`).
        peers: `{peer name: figures}` (`peer`), possibly empty.
    """
    rows = [
        (f"training CPU-seconds, {steps} steps", "train_cpu_s", "{:.0f}"),
        ("peak RSS in training (GB)", "train_rss", "{:.2f}"),
        *[(f"beam 5, batch {b}, sentences per CPU-second", f"sent_per_cpu_s_b{b}", "{:.1f}")
          for b in BATCHES],
        ("test2016 BLEU", "bleu", "{:.2f}"),
    ]
    header = ["figure", *peers, *ours_results,
              *(f"{side} vs {name}" for side in ours_results for name in peers)]
    print(f"| {' | '.join(header)} |")
    print("|---" * len(header) + "|")
    for label, key, form in rows:
        scale = 1e-9 if key == "train_rss" else 1
        cells = [form.format(r[key] * scale) if key in r else "-"
                 for r in (*peers.values(), *ours_results.values())]
        ratios = [_ratio(key, mine, theirs) for mine in ours_results.values() for theirs in peers.values()]
        print(f"| {' | '.join([label, *cells, *ratios])} |")


def _ratio(key, mine, theirs):
    """Our figure against a peer's: a BLEU difference, else a ratio where > 1 is better for us."""
    if key not in mine or key not in theirs:
        return "-"
    if key == "bleu":
        return f"{mine[key] - theirs[key]:+.2f} BLEU"
    # For CPU-seconds and memory, the peer's over ours is our relative speed or thrift.
    lower_is_better = key in ("train_cpu_s", "train_rss")
    return f"{theirs[key] / mine[key] if lower_is_better else mine[key] / theirs[key]:.2f}x"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--mixed_precision", default="", choices=["", "mixed_bfloat16"])
    parser.add_argument("--model_dir", default="", help="keep our model here (default: a temp dir)")
    parser.add_argument("--decode_only", action="store_true",
                        help="export and decode the model trained in --model_dir (no training)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="one of our settings changed (a Config field; repeatable)")
    parser.add_argument("--full_softmax", action="store_true",
                        help="also export and decode with --noshortlist (the full softmax)")
    parser.add_argument("--peer", action="store_true", help="also run ../shared/peers/onmt/run.sh")
    parser.add_argument("--peer_py", action="store_true", help="also run ../shared/peers/onmt_py/run.sh")
    args = parser.parse_args()
    if args.decode_only and not args.model_dir:
        parser.error("--decode_only needs --model_dir")
    ours_results = ours(args)
    peers = {name: peer(script, args.steps) for flag, (name, script) in PEERS.items() if getattr(args, flag)}
    precision = args.mixed_precision or "float32"
    print(f"{args.steps} steps, Multi30k En->Fr, 2 x 256 LSTM, tf-seq2seq in {precision}")
    report(args.steps, ours_results, peers)


if __name__ == "__main__":
    main()
