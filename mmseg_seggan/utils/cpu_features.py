"""Torch's CPU capability and native bf16: emulated bf16 is slower than
fp32, and float results differ between capabilities."""
import platform
from typing import Dict, FrozenSet, Optional

import torch

# /proc/cpuinfo flags of native bf16 (x86: AVX-512 BF16, AMX; Arm: bf16).
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')


def _cpuinfo(*keys: str) -> Optional[str]:
    """The first value of one of ``keys`` in ``/proc/cpuinfo``, if any."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() in keys:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_flags() -> FrozenSet[str]:
    """The instruction-set flags of the first CPU (empty if unknown)."""
    return frozenset((_cpuinfo('flags', 'Features') or '').split())


def cpu_capability() -> str:
    """The kernels torch dispatches to here (``AVX2``, ``AVX512``, ...)."""
    return torch.backends.cpu.get_cpu_capability()


def bf16_speed_note() -> Optional[str]:
    """None where bf16 is native, else a sentence for the log or an error."""
    if cpu_flags() & set(NATIVE_BF16_FLAGS):
        return None
    return (f'this CPU ({cpu_capability()}) has no native bf16 (no '
            f'{"/".join(NATIVE_BF16_FLAGS)} flag): bf16 is emulated and '
            'several times slower than fp32')


def describe_cpu() -> Dict[str, object]:
    """Processor name, torch capability, native bf16 and its flags."""
    flags = cpu_flags()
    return dict(
        name=_cpuinfo('model name') or platform.processor()
        or platform.machine(),
        capability=cpu_capability(),
        native_bf16=bool(flags & set(NATIVE_BF16_FLAGS)),
        bf16_flags=sorted(flags & set(NATIVE_BF16_FLAGS)),
        avx512=any(f.startswith('avx512') for f in flags),
        threads=torch.get_num_threads())
