"""What the CPU can do: torch's capability and native bf16."""
import torch

from mmseg_seggan.utils import cpu_features
from mmseg_seggan.utils.cpu_features import bf16_speed_note, describe_cpu


def test_bf16_note_says_emulated_unless_native(monkeypatch):
    """Bug: a CPU without native bf16 trains --amp many times slower than
    fp32 and nothing says so (the note is what --amp refuses with)."""
    monkeypatch.setattr(cpu_features, 'cpu_flags',
                        lambda: frozenset({'avx2', 'fma'}))
    assert 'no native bf16' in bf16_speed_note()
    for flag in ('avx512_bf16', 'amx_bf16', 'bf16'):
        monkeypatch.setattr(cpu_features, 'cpu_flags',
                            lambda: frozenset({'avx2', flag}))
        assert bf16_speed_note() is None, flag


def test_describe_cpu_matches_cpuinfo():
    info = describe_cpu()
    flags = cpu_features.cpu_flags()
    assert info['capability'] == torch.backends.cpu.get_cpu_capability()
    assert info['native_bf16'] == ('avx512_bf16' in flags
                                   or 'amx_bf16' in flags or 'bf16' in flags)
