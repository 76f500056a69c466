"""Regenerates the bundled sample corpus `tf_seq2seq/resources/sample/` from Tatoeba.

    python scripts/make_sample_corpus.py ../shared/data/tatoeba_en_fr

Keeps pairs whose English side has at most --max_words words, from the
Tatoeba En-Fr train/val/test splits (manythings.org "fra-eng", CC-BY 2.0 FR),
and writes them gzipped (train shuffled with a fixed seed). The split rule of the source data keeps every
English sentence in one split only, so the sample's test part is held out.
"""

import argparse
import gzip
import os
import random

OUTPUT = os.path.join(os.path.dirname(__file__), "..", "tf_seq2seq", "resources", "sample")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tatoeba_dir", help="folder with {train,val,test}.{en,fr}")
    parser.add_argument("--max_words", type=int, default=4)
    parser.add_argument("--max_pairs", type=int, nargs=3, default=(0, 1000, 1000),
                        metavar=("TRAIN", "VAL", "TEST"), help="cap per split (0 = all)")
    args = parser.parse_args()
    os.makedirs(OUTPUT, exist_ok=True)
    for split, cap in zip(("train", "val", "test"), args.max_pairs):
        with open(os.path.join(args.tatoeba_dir, f"{split}.en"), encoding="utf-8") as f:
            english = f.read().splitlines()
        with open(os.path.join(args.tatoeba_dir, f"{split}.fr"), encoding="utf-8") as f:
            french = f.read().splitlines()
        pairs = [(e, f) for e, f in zip(english, french) if len(e.split()) <= args.max_words]
        if cap:
            # Every k-th pair: covers all lengths (the source is sorted by length).
            pairs = pairs[:: max(1, len(pairs) // cap)][:cap]
        else:
            # The source is sorted by length; a fixed shuffle lets training's
            # bounded shuffle buffer see every length from the first step.
            random.Random(split).shuffle(pairs)
        for lang, side in (("en", 0), ("fr", 1)):
            path = os.path.join(OUTPUT, f"{split}.{lang}.gz")
            # mtime=0: the same input gives byte-identical files.
            with gzip.GzipFile(path, "wb", mtime=0) as f:
                f.write("".join(pair[side] + "\n" for pair in pairs).encode("utf-8"))
        print(f"{split}: {len(pairs)} pairs")


if __name__ == "__main__":
    main()
