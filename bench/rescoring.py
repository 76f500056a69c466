"""The paper's rescoring experiment in miniature: a weaker system's n-best lists re-ranked by our models.

    taskset -c 1 .venv/bin/python bench/rescoring.py --baseline=runs/m_old_s1 \
        --single=runs/m_new_s1 --ensemble=runs/m_new_s1,runs/m_new_s2 --work_dir=/tmp/rescoring

Sutskever et al. (2014) re-ranked the 1000-best lists of a phrase-based system
with their LSTMs, averaging the LSTM's log-probability with the system's score
(their Table 2). Here the baseline system is another (weaker) model of ours:
its `--nbest_size`-best lists of Multi30k test2016 (the `translate` command,
beam = n-best size) are written as a Moses n-best list whose total is its
log-prob, and the `score` command re-ranks them with our single model and with
the ensemble, once with the paper's weights (total=0.5,seq2seq=0.5) and once
by our score alone (seq2seq=1, re-ranked from the same list). Each model also
decodes directly (the `evaluate` command, beam 5). Prints a Markdown table of
test2016 BLEU (sacrebleu, cased 13a) and the oracle (the best BLEU reachable by
picking one hypothesis per sentence, sentence-BLEU greedy).
"""

import argparse
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import sacrebleu  # noqa: E402

from tf_seq2seq import corpus, evaluation, nbest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "multi30k_en_fr")


def command(name, *flags):
    """Runs `python -m tf_seq2seq.NAME FLAGS...`; returns its stdout lines."""
    run = subprocess.run([sys.executable, "-m", f"tf_seq2seq.{name}", *flags], check=True,
                         stdout=subprocess.PIPE, text=True)
    return run.stdout.splitlines()


def baseline_nbest(model_dir, source, size, path):
    """Writes the baseline's n-best lists of `source` as a Moses n-best list (feature `baseline=`, its log-prob)."""
    rows = [line.split("\t") for line in command(
        "translate", f"--model_dir={model_dir}", f"--input={source}", f"--beam_size={size}",
        f"--num_hypotheses={size}")]
    entries = [nbest.Entry(int(index), text, (("baseline", (float(score),)),), float(score), number)
               for number, (index, _, score, text) in enumerate(rows, start=1)]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(nbest.format_entry(entry) + "\n" for entry in entries)
    return entries


def rescore(model_dirs, source, nbest_path, output_path):
    """Re-ranks with the `score` command and the paper's weights; returns the re-ranked entries."""
    command("score", f"--model_dir={model_dirs}", f"--source={source}", f"--nbest={nbest_path}",
            "--weights=total=0.5,seq2seq=0.5", f"--nbest_output={output_path}")
    with open(output_path, encoding="utf-8") as f:
        return nbest.parse(f.read().splitlines(), output_path)


def direct_bleu(model_dirs, work_dir, name):
    """test2016 BLEU of the models' own beam-5 decoding (the `evaluate` command)."""
    line = command("evaluate", f"--model_dir={model_dirs}", "--split=test2016", "--beam_size=5",
                   f"--output_dir={os.path.join(work_dir, name)}")[-1]
    return float(line.split("BLEU ")[1].split()[0])


def bleu(entries, references, weights):
    """BLEU of each sentence's best entry under `weights`."""
    ranked = nbest.rerank(entries, nbest.parse_weights(weights), "rescored")
    return evaluation.score(nbest.best(ranked, len(references)), references)["bleu"]


def oracle_bleu(entries, references):
    """BLEU of the hypotheses with the best sentence-BLEU in each list (an upper bound of re-ranking)."""
    best = {}
    for entry in entries:
        sentence_bleu = sacrebleu.sentence_bleu(entry.hypothesis, references[entry.sentence]).score
        if entry.sentence not in best or sentence_bleu > best[entry.sentence][0]:
            best[entry.sentence] = (sentence_bleu, entry.hypothesis)
    return evaluation.score([best[i][1] for i in range(len(references))], references)["bleu"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="model directory of the weaker system")
    parser.add_argument("--single", required=True, help="model directory of the single rescoring model")
    parser.add_argument("--ensemble", required=True, help="DIR1,DIR2,... of the rescoring ensemble")
    parser.add_argument("--nbest_size", type=int, default=10)
    parser.add_argument("--work_dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    source = os.path.join(DATA, "test2016.en")
    references = [[line] for line in corpus.read_lines(os.path.join(DATA, "test2016.fr"))]
    baseline_path = os.path.join(args.work_dir, "baseline.nbest")
    entries = baseline_nbest(args.baseline, source, args.nbest_size, baseline_path)
    rows = [(f"baseline {args.baseline}, its 1-best (beam {args.nbest_size})", bleu(entries, references, "total=1")),
            ("oracle of its n-best lists (best sentence-BLEU)", oracle_bleu(entries, references))]
    for name, model_dirs in (("single", args.single), ("ensemble", args.ensemble)):
        rows.append((f"{name} {model_dirs}, direct decoding (beam 5)", direct_bleu(model_dirs, args.work_dir, name)))
        rescored = rescore(model_dirs, source, baseline_path, os.path.join(args.work_dir, f"{name}.nbest"))
        rows += [(f"baseline n-best rescored by the {name}, {weights}", bleu(rescored, references, weights))
                 for weights in ("total=0.5,seq2seq=0.5", "seq2seq=1")]
    print(f"| Multi30k test2016, {args.nbest_size}-best lists | BLEU |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
