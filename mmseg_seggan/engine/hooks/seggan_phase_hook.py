"""Switch SegGAN from GAN pre-training (phase 1) to fine-tuning (phase 2)."""
from typing import Optional

import torch
from mmengine.dist import broadcast, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...models.segmentors.seggan import PHASE_NAMES

PHASE_INFO_KEY = 'seggan_phase'
# Scalars that belong to every phase; the rest are dropped at the switch so
# that phase-2 log lines never show phase-1 losses (and vice versa).
_SHARED_SCALARS = ('lr', 'time', 'data_time')


@HOOKS.register_module()
class SegGANPhaseHook(Hook):
    """Iterations ``[0, gan_iters)`` are phase 1, the rest phase 2.

    The phase is derived from ``runner.iter`` before every iteration, so a
    run resumed at any iteration (``gan_iters`` included) lands in the right
    phase; the optimizer states of all three networks are in the checkpoint.
    The phase is published in the message hub (``seggan_phase``) for the
    log processor and other hooks.

    Args:
        gan_iters (int): Length of phase 1. 0 means phase 2 only.
    """
    priority = 'VERY_HIGH'

    def __init__(self, gan_iters: int):
        if gan_iters < 0:
            raise ValueError(f'gan_iters must be >= 0, got {gan_iters}.')
        self.gan_iters = gan_iters
        self._phase: Optional[int] = None

    def phase_at(self, iteration: int) -> int:
        return 1 if iteration < self.gan_iters else 2

    def before_train(self, runner) -> None:
        max_iters = runner.max_iters
        if self.gan_iters > max_iters:
            raise ValueError(
                f'SegGANPhaseHook(gan_iters={self.gan_iters}) exceeds '
                f'train_cfg.max_iters={max_iters}: phase 2 would never run. '
                'Set max_iters = gan_iters + fine-tuning iterations.')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'set_phase'):
            raise TypeError('SegGANPhaseHook needs a SegGAN model; got '
                            f'{type(model).__name__}.')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        phase = self.phase_at(runner.iter)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if phase != self._phase:
            switching = self._phase is not None
            if phase == 2 and get_world_size() > 1:
                self._sync_gan(model)
            model.set_phase(phase)
            model.train()
            if switching:
                self._drop_phase_scalars(runner)
            runner.logger.info(
                f'SegGAN phase {phase} ({PHASE_NAMES[phase]}) from iteration '
                f'{runner.iter + 1}')
            self._phase = phase
        runner.message_hub.update_info(PHASE_INFO_KEY, phase)

    @staticmethod
    def _sync_gan(model) -> None:
        """Make frozen G and D identical on every rank (BN buffers too)."""
        for net in (model.generator, model.discriminator):
            net = net.module if is_model_wrapper(net) else net
            for t in list(net.parameters()) + list(net.buffers()):
                if torch.is_floating_point(t):
                    broadcast(t.data, 0)

    @staticmethod
    def _drop_phase_scalars(runner) -> None:
        scalars = runner.message_hub.log_scalars
        for key in list(scalars):
            if key.startswith('train/') and not key.endswith(_SHARED_SCALARS):
                scalars.pop(key)
