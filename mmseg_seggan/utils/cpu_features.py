"""What this CPU can do: its vector capability, native bf16, GEMM rates.

The same step takes 5 s on one machine of this project's kind and 2 s on
another (AVX2 vs AVX-512), and bf16 is several times faster than fp32 on
a CPU with native bf16 instructions but far slower where torch emulates
it. A timing means little without the machine's own ceiling next to it:
these functions measure and name it.
"""
import platform
import time
from typing import Dict, FrozenSet, Optional

import torch

# /proc/cpuinfo flags of native bf16 arithmetic (x86: AVX-512 BF16, AMX;
# Arm: the BF16 extension, spelled ``bf16`` in the Features line).
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')


def cpu_flags() -> FrozenSet[str]:
    """The instruction-set flags of the first CPU in ``/proc/cpuinfo``.

    Returns:
        frozenset: Empty where the file does not exist (not Linux).
    """
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() in ('flags', 'Features'):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_capability() -> str:
    """The kernels torch dispatches to here (``AVX2``, ``AVX512``, ...)."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch < 2.0
        return 'unknown'


def has_native_bf16() -> bool:
    """Whether the CPU has bf16 arithmetic (``avx512_bf16``, AMX, Arm BF16).
    """
    return bool(cpu_flags() & set(NATIVE_BF16_FLAGS))


def has_onednn_bf16() -> bool:
    """Whether torch runs bf16 matmuls and convolutions in oneDNN here.

    oneDNN needs AVX-512 (it converts to fp32 where the CPU lacks native
    bf16); without it (AVX2) torch falls back to reference kernels, far
    slower than fp32 (a 1024 matmul at 0.5 GFLOP/s against 23 in fp32 on
    this project's AVX2 machine).
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return has_native_bf16()


def bf16_speed_note() -> Optional[str]:
    """What bf16 costs on this CPU, or None where it is native.

    Returns:
        str or None: A sentence for the log where bf16 is emulated.
    """
    if has_native_bf16():
        return None
    capability = cpu_capability()
    if has_onednn_bf16():
        return (f'this CPU ({capability}) has no native bf16 (no '
                'avx512_bf16/amx_bf16 flag): oneDNN emulates bf16 with '
                'fp32 arithmetic and conversions, usually no faster and '
                'often slower than fp32')
    return (f'this CPU ({capability}) has no native bf16 and oneDNN has no '
            'bf16 kernels for it: bf16 convolutions and matmuls run in '
            'reference kernels, tens of times slower than fp32')


def gemm_gflops(dtype: torch.dtype = torch.float32,
                size: int = 2048,
                threads: int = 1,
                min_seconds: float = 0.2,
                max_seconds: float = 1.5) -> Dict[str, float]:
    """Measured rate of one ``size`` x ``size`` matmul (best of a few).

    Where bf16 is emulated a 2048 matmul takes minutes: the size doubles
    from 256 up to ``size`` only while the next product would take under
    ``max_seconds``, and the size used is returned with the rate.

    Args:
        dtype: ``torch.float32`` or ``torch.bfloat16``.
        size: The matrix side wanted (2048: a rate near the CPU's peak).
        threads: Intra-op threads during the measurement (restored after).
        min_seconds: Products are repeated until this much time is spent.
        max_seconds: Longest single product the size search allows.

    Returns:
        dict: ``gflops`` (2 n^3 / s of the fastest product) and ``size``.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n = min(256, size)
        while True:
            a = torch.randn(n, n).to(dtype)
            b = torch.randn(n, n).to(dtype)
            t0 = time.perf_counter()
            a @ b  # warm-up, and the size probe
            first = time.perf_counter() - t0
            if n >= size or 8 * first > max_seconds:
                break
            n = min(2 * n, size)
        best, spent = first, 0.0
        while spent < min_seconds:
            t0 = time.perf_counter()
            a @ b
            dt = time.perf_counter() - t0
            best, spent = min(best, dt), spent + dt
    finally:
        torch.set_num_threads(before)
    return dict(gflops=2 * n**3 / best / 1e9, size=n)


def describe_cpu() -> Dict[str, object]:
    """Processor name, torch capability, native bf16 and its flags."""
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.partition(':')[2].strip()
                    break
    except OSError:
        pass
    flags = cpu_flags()
    return dict(
        name=name,
        capability=cpu_capability(),
        native_bf16=has_native_bf16(),
        onednn_bf16=has_onednn_bf16(),
        bf16_flags=sorted(flags & set(NATIVE_BF16_FLAGS)),
        avx512=any(f.startswith('avx512') for f in flags),
        threads=torch.get_num_threads())
