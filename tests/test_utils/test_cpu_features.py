"""What the CPU can do: capability, bf16, the GEMM ceiling."""
import torch

from mmseg_seggan.utils import cpu_features
from mmseg_seggan.utils.cpu_features import (bf16_speed_note, describe_cpu,
                                             gemm_gflops)


def test_gemm_size_search_stops_before_a_slow_product():
    """Bug: probing straight at 2048 (a bf16 2048 matmul takes minutes
    where bf16 is emulated). With no time allowed, the search must stay
    at its first size."""
    out = gemm_gflops(
        torch.float32, size=2048, max_seconds=0.0, min_seconds=0.0)
    assert out['size'] == 256 and out['gflops'] > 0
    assert gemm_gflops(torch.float32, size=128, min_seconds=0.0)['size'] \
        == 128


def test_gemm_restores_the_thread_count():
    before = torch.get_num_threads()
    gemm_gflops(torch.float32, size=128, threads=1, min_seconds=0.0)
    assert torch.get_num_threads() == before


def test_bf16_note_says_emulated_unless_native(monkeypatch):
    """Bug: a CPU without native bf16 trains --amp many times slower than
    fp32 and the log says nothing."""
    monkeypatch.setattr(cpu_features, 'has_native_bf16', lambda: False)
    monkeypatch.setattr(cpu_features, 'has_onednn_bf16', lambda: False)
    assert 'reference kernels' in bf16_speed_note()
    monkeypatch.setattr(cpu_features, 'has_onednn_bf16', lambda: True)
    assert 'emulates bf16' in bf16_speed_note()
    monkeypatch.setattr(cpu_features, 'has_native_bf16', lambda: True)
    assert bf16_speed_note() is None


def test_describe_cpu_matches_cpuinfo():
    info = describe_cpu()
    flags = cpu_features.cpu_flags()
    assert info['capability'] == torch.backends.cpu.get_cpu_capability()
    assert info['native_bf16'] == ('avx512_bf16' in flags
                                   or 'amx_bf16' in flags or 'bf16' in flags)
