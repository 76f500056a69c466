"""tf-seq2seq: Sequence to Sequence Learning with Neural Networks, in TensorFlow/Keras."""

import setuptools

setuptools.setup(
    name="tf-seq2seq",
    version="0.1.0",
    description=(
        "Sutskever, Vinyals & Le (2014) deep-LSTM sequence-to-sequence translation: "
        "tf.data input, Keras model, tf.distribute training, TF Serving export."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.13",
    packages=setuptools.find_packages(include=["tf_seq2seq", "tf_seq2seq.*"]),
    package_data={"tf_seq2seq": ["resources/sample/*", "resources/*.md"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<3.16",
        "tensorflow-text>=2.21,<2.22",
        "tensorflow-datasets>=4.9.10,<4.10",
        "importlib_resources>=6",
        "tensorboard>=2.21,<2.22",
        "tensorflow-serving-api>=2.21,<2.22",
        "sacrebleu>=2.4,<3",
        "absl-py>=2.1,<3",
        "tqdm>=4.60,<5",
    ],
    extras_require={
        "analysis": ["matplotlib>=3.8,<4"],
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "matplotlib>=3.8,<4"],
    },
    entry_points={
        "console_scripts": [
            f"tf-seq2seq-{name}=tf_seq2seq.{name}:run"
            for name in ("train", "evaluate", "export", "translate", "score", "analyze", "ablation")
        ]
    },
)
