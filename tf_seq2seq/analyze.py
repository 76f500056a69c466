"""The paper's figures from a trained or exported model.

    python -m tf_seq2seq.analyze pca --model_dir=DIR --output=pca.png [--phrases_file=F]
    python -m tf_seq2seq.analyze length --model_dir=DIR --split=test --output=length.png
    python -m tf_seq2seq.analyze rarity --model_dir=DIR --split=test --output=rarity.png
    python -m tf_seq2seq.analyze attention --model_dir=DIR --output=attention.png [--phrases_file=F]

`pca` (Figure 2) encodes phrases (default: the paper's) and plots the first
two principal components of their sentence vectors; the vectors and labels go
to OUTPUT.projector/ for TensorBoard's embedding projector. `length` (Figure 3)
reads the hypotheses of an earlier `evaluate` run (MODEL_DIR/eval_SPLIT.hyp)
and plots BLEU by source length; `rarity` (Figure 3, right) plots BLEU by each
source sentence's average word-frequency rank in the model's (word) vocabulary,
in equal-count buckets. The numbers go to OUTPUT.csv. `attention` (a model
trained with --attention) translates sentences (default: two orders of the same
words) and draws one heat map per sentence of each output word's attention
over the source words; the numbers go to OUTPUT.json.
"""

import os

from tf_seq2seq import cli  # isort: skip  (first: it quietens TensorFlow's import)

import tensorflow as tf  # noqa: E402

from tf_seq2seq import analysis
from tf_seq2seq import corpus
from tf_seq2seq import evaluation
from tf_seq2seq import flags
from tf_seq2seq import tokenizer as tokenizer_lib

FLAGS = flags.FLAGS


def _phrases(default):
    """The non-empty lines of `--phrases_file`, or `default`."""
    if not FLAGS.phrases_file:
        return list(default)
    if not os.path.isfile(FLAGS.phrases_file):
        cli.fail(f"phrases file not found: {FLAGS.phrases_file}")
    return [p for p in corpus.read_lines(FLAGS.phrases_file) if p]


def pca():
    model, _, _ = cli.load_model()
    encode = model.signatures["encode"] if FLAGS.saved_model else model.encode_signature
    phrases = _phrases(analysis.PAPER_PHRASES)
    if len(phrases) < 2:
        cli.fail("pca needs at least two phrases")
    vectors = encode(sentences=tf.constant(phrases))["vectors"].numpy()
    points, explained = analysis.pca_2d(vectors)
    analysis.save(analysis.pca_figure(points, phrases, explained), FLAGS.output)
    analysis.write_projector_files(vectors, phrases, FLAGS.output + ".projector")
    print(f"{len(phrases)} phrases -> {FLAGS.output}, {FLAGS.output}.projector/")


def _evaluated():
    """`(config, sources, references, hypotheses)` of an earlier evaluate run on --split."""
    if FLAGS.model_dir is None:
        cli.fail("length and rarity read an evaluate run: give --model_dir")
    config = flags.config_for_model_dir(FLAGS.model_dir)
    hypotheses_path = os.path.join(FLAGS.model_dir, f"eval_{FLAGS.split}.hyp")
    if not os.path.isfile(hypotheses_path):
        cli.fail(f"{hypotheses_path} not found: run tf_seq2seq.evaluate --split={FLAGS.split} first")
    sources, references = evaluation.read_references(config, FLAGS.split)
    hypotheses = corpus.read_lines(hypotheses_path)
    if len(hypotheses) != len(sources):
        cli.fail(f"{hypotheses_path} has {len(hypotheses)} lines for {len(sources)} sources")
    return config, sources, references, hypotheses


def _write_buckets(rows, xlabel, label_format, references, hypotheses):
    corpus_bleu = evaluation.score(hypotheses, references)["bleu"]
    analysis.write_bucket_table(rows, FLAGS.output + ".csv")
    analysis.save(analysis.bucket_figure(rows, xlabel, corpus_bleu, label_format), FLAGS.output)
    print(f"all: {len(hypotheses)} sentences, BLEU {corpus_bleu:.2f}")
    for row in rows:
        bucket = label_format.format(row["low"], row["high"])
        print(f"{xlabel} {bucket}: {row['sentences']} sentences, BLEU {row['bleu']:.2f}")


def length():
    _, sources, references, hypotheses = _evaluated()
    rows = analysis.bleu_by_length(sources, references, hypotheses)
    _write_buckets(rows, "source length (words)", "{:g}-{:g}", references, hypotheses)


def rarity():
    config, sources, references, hypotheses = _evaluated()
    if config.tokenizer != "word":
        cli.fail("rarity ranks words by frequency: it needs a --tokenizer=word model")
    source_tokenizer, _ = tokenizer_lib.from_model_dir(FLAGS.model_dir, config.tokenizer)
    ids = source_tokenizer.tokenize(tf.constant(sources, tf.string)).to_list()
    ranks = analysis.average_frequency_ranks(ids, source_tokenizer.vocab_size)
    rows = analysis.bleu_by_rarity(ranks, references, hypotheses)
    _write_buckets(rows, "average word-frequency rank", "{:.0f}-{:.0f}", references, hypotheses)


def attention():
    if FLAGS.model_dir is None or len(flags.model_dirs()) != 1:
        cli.fail("attention reads the weights of one model: give one --model_dir")
    translator, _, config = cli.load_model()
    sentences = _phrases(analysis.ATTENTION_SENTENCES)
    if not sentences:
        cli.fail("attention needs at least one sentence")
    rows = analysis.attention_alignments(translator, sentences, config)
    analysis.write_alignments(rows, FLAGS.output + ".json")
    analysis.save(analysis.attention_figure(rows), FLAGS.output)
    for sentence, row in zip(sentences, rows):
        print(f"{sentence} -> {' '.join(row['output'])}")
    print(f"{len(rows)} heat maps -> {FLAGS.output}, {FLAGS.output}.json")


COMMANDS = {"pca": pca, "length": length, "rarity": rarity, "attention": attention}


def main(command):
    cli.check_writable(os.path.dirname(os.path.abspath(FLAGS.output)), "--output")
    COMMANDS[command]()


def run():
    cli.run(main, reads=("saved_model", "model_dir", "checkpoint", "split", "output", "phrases_file"),
            required=["output"], commands=tuple(COMMANDS))


if __name__ == "__main__":
    run()
