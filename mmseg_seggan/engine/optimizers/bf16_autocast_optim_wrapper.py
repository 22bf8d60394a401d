"""bf16 autocast on any device, the CPU included (mmengine's AMP refuses
it); bf16 has fp32's exponent range, so no loss scaling is needed."""
from contextlib import contextmanager
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmseg.registry import OPTIM_WRAPPERS

from ...utils.cpu_features import bf16_speed_note, cpu_capability

# Loggers (one per run) told the precision: once, not once per wrapper.
_TOLD = set()


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` running the forward under bf16 autocast.

    Args:
        device_type (str, optional): 'cpu', 'cuda' or None (the model's).
        **kwargs: Everything ``OptimWrapper`` takes.
    """

    def __init__(self, device_type: Optional[str] = None, **kwargs):
        if device_type not in (None, 'cpu', 'cuda'):
            raise ValueError(
                'optim_wrapper.device_type must be None, "cpu" or "cuda", '
                f'got {device_type!r}.')
        super().__init__(**kwargs)
        self.device_type = device_type

    @staticmethod
    def _announce(device_type: str) -> None:
        """Say once, in the run's log, which precision it trains in."""
        logger = MMLogger.get_current_instance()
        if logger.instance_name in _TOLD:
            return
        _TOLD.add(logger.instance_name)
        message = (f'Precision: bf16 autocast on {device_type} (weights, '
                   'gradients and optimizer states fp32)')
        if device_type == 'cpu':
            note = bf16_speed_note()
            message += f', CPU capability {cpu_capability()}' + (
                f'. bf16 is EMULATED and SLOWER than fp32: {note}'
                if note else '')
        print_log(message, logger=logger)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context plus bf16 autocast."""
        param = next(model.parameters(), None)
        device_type = self.device_type or (param.device.type
                                           if param is not None else 'cpu')
        self._announce(device_type)
        with super().optim_context(model), autocast(
                device_type=device_type, dtype=torch.bfloat16):
            yield
