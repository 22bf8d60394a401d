"""On a NaN/Inf loss term: stop, or skip the step (restoring BN stats)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from torch import Tensor

MODES = ('raise', 'skip')


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or Inf; training stops before the update."""


class NonFiniteLossPolicy:
    """``'raise'`` (stop, naming the term) or ``'skip'`` (count and go on)."""

    def __init__(self, mode: str = 'raise'):
        if mode not in MODES:
            raise ValueError("SegGAN(nonfinite=...) must be 'raise' or "
                             f"'skip', got {mode!r}.")
        self.mode = mode
        self.skipped_steps = 0

    def check(self, losses: Dict[str, Tensor], phase: int,
              phase_name: str) -> bool:
        """True if every loss term is finite; otherwise raise or skip."""
        bad = {
            k: v.detach().float().sum().item()
            for k, v in losses.items()
            if 'loss' in k and not torch.isfinite(v.detach()).all()
        }
        if not bad:
            return True
        if self.mode == 'skip':
            self.skipped_steps += 1
            return False
        it = MessageHub.get_current_instance().get_info('iter')
        where = (f'iteration {it + 1}' if isinstance(it, int) else
                 'this iteration') + f', phase {phase} ({phase_name})'
        terms = ', '.join(f'{k}={v}' for k, v in bad.items())
        raise NonFiniteLossError(
            f'Non-finite loss at {where}: {terms}. No parameter was updated; '
            'the last saved checkpoint is intact. Lower the learning rate '
            'or the loss weights, check the data, or set '
            "`model.nonfinite='skip'` to skip such steps.")

    def snapshot(self, *modules: nn.Module) -> Optional[List[Tuple]]:
        """Copies of the BN statistics a skipped step must not keep."""
        if self.mode != 'skip':
            return None
        return [(b, b.detach().clone()) for m in modules for b in m.buffers()]

    @staticmethod
    def restore(saved: Optional[List[Tuple]]) -> None:
        """Put back what :meth:`snapshot` copied."""
        if saved:
            with torch.no_grad():
                for buf, value in saved:
                    buf.copy_(value)

    def log_vars(self) -> Dict[str, Tensor]:
        """``skipped_steps`` for the log, in ``'skip'`` mode."""
        if self.mode != 'skip':
            return {}
        return dict(skipped_steps=torch.tensor(float(self.skipped_steps)))
