"""precision.py: which mixed-precision policies are slower than float32 on this CPU."""

from tf_seq2seq import precision


def test_a_precision_slower_than_float32_on_this_cpu_is_named(tmp_path, caplog):
    with_bf16, without = tmp_path / "epyc", tmp_path / "icelake"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n", encoding="utf-8")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_vnni\n", encoding="utf-8")
    assert precision.native_bfloat16(str(with_bf16)) and not precision.native_bfloat16(str(without))
    assert not precision.native_bfloat16(str(tmp_path / "missing"))
    for policy, cpuinfo, warned in [("mixed_bfloat16", with_bf16, False), ("mixed_bfloat16", without, True),
                                    ("mixed_float16", with_bf16, True), ("", without, False)]:
        caplog.clear()
        with caplog.at_level("WARNING", logger="absl"):
            precision._warn_if_slow_on_this_cpu(policy, str(cpuinfo))
        assert bool(caplog.messages) == warned, (policy, cpuinfo)
        assert all(f"--mixed_precision={policy}" in message and "slower than float32" in message
                   for message in caplog.messages)
