"""bf16 mixed precision on any device, the CPU included (``--amp``).

mmengine's ``AmpOptimWrapper`` asserts a CUDA (or NPU/MLU/MUSA) device,
though ``torch.autocast`` runs bf16 on the CPU too. This wrapper is an
``OptimWrapper`` whose forward context is ``autocast(dtype=bfloat16)`` on
the model's device: convolutions and matmuls run in bf16, the weights,
gradients and optimizer states stay fp32. bf16 keeps fp32's exponent range,
so no loss scaling is needed (nor kept in the checkpoint).

On a CPU bf16 is fast only with native bf16 instructions (``avx512_bf16``,
AMX); elsewhere it is emulated and slower than fp32, and the log says so.
``--amp`` on a CPU pairs it with ``BF16PolicyHook`` (channels-last, the
depthwise convolutions outside autocast), and refuses emulated bf16.
"""
from contextlib import contextmanager
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmseg.registry import OPTIM_WRAPPERS

from ...utils.cpu_features import bf16_speed_note, cpu_capability

# Loggers (one per run) that have been told the precision: SegGAN's three
# wrappers say it once per run, not three times.
_TOLD = set()


def precision_record(device_type: str) -> dict:
    """What a run's record says about its precision (log, protocol.json).

    Args:
        device_type: ``'cpu'`` or ``'cuda'``.

    Returns:
        dict: ``precision`` (``'bf16-autocast'``), ``device_type``, and on
        a CPU its ``capability`` and whether bf16 is ``emulated``.
    """
    record = dict(precision='bf16-autocast', device_type=device_type)
    if device_type == 'cpu':
        record.update(
            capability=cpu_capability(),
            emulated=bf16_speed_note() is not None)
    return record


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` running the forward under bf16 autocast.

    Set by ``tools/train.py --amp`` where there is no CUDA device; usable
    by name in a config as well::

        optim_wrapper = dict(type='BF16AutocastOptimWrapper',
                             optimizer=dict(type='SGD', lr=0.01))

    Args:
        device_type (str, optional): ``'cpu'`` or ``'cuda'``; None (default)
            takes the device of the model's first parameter.
        **kwargs: Everything ``OptimWrapper`` takes.
    """

    def __init__(self, device_type: Optional[str] = None, **kwargs):
        if device_type not in (None, 'cpu', 'cuda'):
            raise ValueError(
                'optim_wrapper.device_type must be None, "cpu" or "cuda", '
                f'got {device_type!r}.')
        super().__init__(**kwargs)
        self.device_type = device_type

    def _device_type(self, model: nn.Module) -> str:
        if self.device_type is not None:
            return self.device_type
        param = next(model.parameters(), None)
        return param.device.type if param is not None else 'cpu'

    @staticmethod
    def _announce(device_type: str) -> None:
        """Say once, in the run's log, which precision it trains in."""
        logger = MMLogger.get_current_instance()
        if logger.instance_name in _TOLD:
            return
        _TOLD.add(logger.instance_name)
        record = precision_record(device_type)
        message = (f'Precision: bf16 autocast on {device_type} (weights, '
                   'gradients and optimizer states fp32; record '
                   f'{record})')
        note = bf16_speed_note() if device_type == 'cpu' else None
        if note:
            message += f'. bf16 is EMULATED and SLOWER than fp32: {note}'
        print_log(message, logger=logger)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient accumulation) plus bf16 autocast.
        """
        device_type = self._device_type(model)
        self._announce(device_type)
        with super().optim_context(model), autocast(
                device_type=device_type, dtype=torch.bfloat16):
            yield
