"""CPU precision policy of --amp: bf16 only where faster (depthwise convs in
fp32 channels-last; emulated bf16, slower throughout, refused unless told)."""
import logging
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...utils import cpu_features
from .channels_last_hook import segmentor_to_channels_last

OVERRIDE = 'allow_emulated_bf16'


def check_native_bf16(allow_emulated: bool, where: str) -> None:
    """Raise ``RuntimeError`` where bf16 is emulated, unless allowed."""
    note = cpu_features.bf16_speed_note()
    if note and not allow_emulated:
        raise RuntimeError(
            f'{where}: {note}. Train in fp32 (drop --amp / the '
            'BF16PolicyHook), or to train in emulated bf16 anyway add '
            f'`--cfg-options {OVERRIDE}=True`.')


class _Island:
    """Hooks running a module in fp32 (always_call: autocast back on error)."""

    def __init__(self):
        self._open = []

    def pre(self, module, args):
        x = next((a for a in args if torch.is_tensor(a)), None)
        if x is None or not torch.is_autocast_enabled(x.device.type):
            self._open.append(None)
            return None
        ctx = torch.autocast(x.device.type, enabled=False)
        ctx.__enter__()
        self._open.append(ctx)
        return tuple(
            a.float() if torch.is_tensor(a) and a.is_floating_point() else a
            for a in args)

    def post(self, module, args, output):
        ctx = self._open.pop()
        if ctx is not None:
            ctx.__exit__(None, None, None)


def keep_fp32(model: nn.Module, fp32: Sequence[str]) -> int:
    """Run ``fp32`` ('depthwise' convs, children's names) outside autocast."""
    model = model.module if is_model_wrapper(model) else model
    children = dict(model.named_children())
    unknown = set(fp32) - {'depthwise'} - set(children)
    if unknown:
        raise ValueError(
            f'BF16PolicyHook.fp32: {sorted(unknown)} is neither "depthwise" '
            f'nor a child of the model ({sorted(children)}).')
    modules = [children[n] for n in fp32 if n != 'depthwise']
    if 'depthwise' in fp32:
        modules += [
            m for m in model.modules()
            if isinstance(m, nn.Conv2d) and 1 < m.groups == m.in_channels
        ]
    for m in modules:
        island = _Island()
        m.register_forward_pre_hook(island.pre)
        m.register_forward_hook(island.post, always_call=True)
    return len(modules)


@HOOKS.register_module()
class BF16PolicyHook(Hook):
    """Channels-last segmentor and fp32 islands for bf16 autocast training.

    Args:
        fp32 (Sequence[str]): What runs outside autocast (:func:`keep_fp32`).
        allow_emulated_bf16 (bool): Run even where bf16 is emulated.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 channels_last: bool = True,
                 fp32: Sequence[str] = ('depthwise', ),
                 allow_emulated_bf16: bool = False):
        check_native_bf16(allow_emulated_bf16, 'BF16PolicyHook')
        self.channels_last = channels_last
        self.fp32 = tuple(fp32)

    def before_run(self, runner) -> None:
        if self.channels_last:
            segmentor_to_channels_last(runner.model)
        n = keep_fp32(runner.model, self.fp32)
        runner.logger.info(
            f'bf16 policy: segmentor channels-last {self.channels_last}, '
            f'{n} modules in fp32 under autocast ({", ".join(self.fp32)}).')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Weights saved contiguous (NCHW), as an fp32 run saves them."""
        state = checkpoint['state_dict']
        state.update({k: v.contiguous() for k, v in state.items()})


def enable_amp(cfg: Config) -> None:
    """``--amp``: ``AmpOptimWrapper`` on CUDA (as mmseg's); on a CPU
    ``BF16AutocastOptimWrapper`` and ``BF16PolicyHook``."""
    cuda = torch.cuda.is_available()
    allow = bool(cfg.get(OVERRIDE, False))
    if not cuda:
        check_native_bf16(allow, '--amp on a CPU')
    target = 'AmpOptimWrapper' if cuda else 'BF16AutocastOptimWrapper'
    optim = cfg.optim_wrapper  # SegGAN's drop-in form: G and D follow it
    nets = ('segmentor', 'generator', 'discriminator')
    for wrapper in [optim[k] for k in nets if k in optim] or [optim]:
        kind = wrapper.get('type', 'OptimWrapper')
        if kind == target:
            print_log('AMP training is already enabled in your config.',
                      'current', logging.WARNING)
            continue
        if kind != 'OptimWrapper':
            raise ValueError('`--amp` is only supported when the optimizer '
                             f'wrapper type is `OptimWrapper`, got {kind}.')
        wrapper['type'] = target
        if cuda:
            wrapper['loss_scale'] = 'dynamic'
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not cuda and 'BF16PolicyHook' not in [h.get('type') for h in hooks]:
        hooks.append(dict(type='BF16PolicyHook', allow_emulated_bf16=allow))
        cfg.custom_hooks = hooks
