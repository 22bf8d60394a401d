"""What this CPU can do: torch's vector capability and native bf16.

bf16 is faster than fp32 on a CPU with native bf16 instructions and far
slower where torch emulates it, and float results differ in the last digits
between capabilities: runs and benchmarks record both.
"""
import platform
from typing import Dict, FrozenSet, Optional

import torch

# /proc/cpuinfo flags of native bf16 arithmetic (x86: AVX-512 BF16, AMX;
# Arm: the BF16 extension, spelled ``bf16`` in the Features line).
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')


def cpu_flags() -> FrozenSet[str]:
    """The instruction-set flags of the first CPU in ``/proc/cpuinfo``
    (empty where there is no such file)."""
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
    return torch.backends.cpu.get_cpu_capability()


def has_native_bf16() -> bool:
    """Whether the CPU has bf16 arithmetic (``avx512_bf16``, AMX, Arm BF16).
    """
    return bool(cpu_flags() & set(NATIVE_BF16_FLAGS))


def bf16_speed_note() -> Optional[str]:
    """None where bf16 is native, else a sentence for the log or an error.
    """
    if has_native_bf16():
        return None
    return (f'this CPU ({cpu_capability()}) has no native bf16 (no '
            f'{"/".join(NATIVE_BF16_FLAGS)} flag): bf16 is emulated and '
            'several times slower than fp32')


def describe_cpu() -> Dict[str, object]:
    """Processor name, torch capability, native bf16 and its flags."""
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            name = next((line.partition(':')[2].strip()
                         for line in f if line.startswith('model name')), name)
    except OSError:
        pass
    flags = cpu_flags()
    return dict(
        name=name,
        capability=cpu_capability(),
        native_bf16=has_native_bf16(),
        bf16_flags=sorted(flags & set(NATIVE_BF16_FLAGS)),
        avx512=any(f.startswith('avx512') for f in flags),
        threads=torch.get_num_threads())
