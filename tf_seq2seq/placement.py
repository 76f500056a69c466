"""Layer placement: the paper's model parallelism, one LSTM layer per device (`--layer_devices`)."""

from tf_seq2seq.errors import Seq2SeqError


def layer_devices(config):
    """The devices of `config.layer_devices` (num_layers + 2 of them), or None if unset.

    Raises:
        Seq2SeqError: if the count does not match the model's depth.
    """
    if not config.layer_devices:
        return None
    devices = [d.strip() for d in config.layer_devices.split(",")]
    if len(devices) != config.num_layers + 2:
        raise Seq2SeqError(
            f"--layer_devices needs {config.num_layers + 2} devices (embeddings, "
            f"{config.num_layers} LSTM layers, softmax), got {len(devices)}: {config.layer_devices}"
        )
    return devices
