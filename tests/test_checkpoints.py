"""Checkpoints of a training run: what a resume restores when the input pipeline changed."""

from tf_seq2seq import training

from helpers import tiny_config


def test_a_checkpoint_of_another_input_pipeline_resumes_with_the_data_restarted(
        tiny_corpus, tmp_path, monkeypatch, caplog):
    from tf_seq2seq import pipeline

    model_dir = str(tmp_path / "model")
    earlier = pipeline.training_batches  # An earlier version: one more stage.
    monkeypatch.setattr(pipeline, "training_batches", lambda *args: earlier(*args).filter(lambda f, l: True))
    training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)
    monkeypatch.undo()
    with caplog.at_level("WARNING", logger="absl"):
        result = training.train(tiny_config(tiny_corpus, train_steps=4), model_dir)
    assert result["step"] == 4
    assert "holds the input position of another version of the input pipeline" in caplog.text
