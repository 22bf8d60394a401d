"""The CPU precision policy of ``--amp``: bf16 only where it is faster.

On a CPU with native bf16 (``avx512_bf16``, AMX) bf16 autocast speeds up
the 1x1 convolutions and matmuls of a segmentor, channels-last speeds up
oneDNN's convolutions, but depthwise convolutions are slower in bf16 than
in fp32 channels-last: the policy runs them outside autocast (docs/
benchmarks.md has the measurements). Where bf16 is emulated it is slower
than fp32 throughout, and ``--amp`` refuses unless told otherwise.

Everything is named in the config: the optimizer wrappers
(``BF16AutocastOptimWrapper``, the autocast) and this hook (the layout
and the fp32 islands, forward hooks on the model's own modules).
"""
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
    """Refuse bf16 on a CPU that emulates it, unless allowed.

    Raises:
        RuntimeError: No native bf16 here and ``allow_emulated`` is False.
    """
    note = cpu_features.bf16_speed_note()
    if note and not allow_emulated:
        raise RuntimeError(
            f'{where}: {note}. Train in fp32 (drop --amp / the '
            'BF16PolicyHook), or to train in emulated bf16 anyway add '
            f'`--cfg-options {OVERRIDE}=True`.')


def is_depthwise(module: nn.Module) -> bool:
    """A convolution with one group per input channel."""
    return isinstance(module, nn.Conv2d) and module.groups > 1 and \
        module.groups == module.in_channels


class _Island:
    """Forward pre/post hooks that run a module in fp32 under autocast.

    The pre-hook turns autocast off and casts the floating inputs to fp32;
    the post-hook (``always_call``, so an exception cannot leave autocast
    off) turns it back on. Outside autocast (validation) both do nothing.
    """

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
    """Register fp32 islands on the model's own modules.

    Args:
        model: The (possibly wrapped) model.
        fp32: ``'depthwise'`` (every depthwise convolution) and/or names of
            the model's children (``'generator'``, ``'discriminator'``).

    Returns:
        int: How many modules were made islands.
    """
    model = model.module if is_model_wrapper(model) else model
    children = dict(model.named_children())
    unknown = set(fp32) - {'depthwise'} - set(children)
    if unknown:
        raise ValueError(
            f'BF16PolicyHook.fp32: {sorted(unknown)} is neither "depthwise" '
            f'nor a child of the model ({sorted(children)}).')
    modules = [children[n] for n in fp32 if n != 'depthwise']
    if 'depthwise' in fp32:
        modules += [m for m in model.modules() if is_depthwise(m)]
    for m in modules:
        island = _Island()
        m.register_forward_pre_hook(island.pre)
        m.register_forward_hook(island.post, always_call=True)
    return len(modules)


@HOOKS.register_module()
class BF16PolicyHook(Hook):
    """Channels-last segmentor, fp32 islands, for bf16 autocast training.

    Set by ``tools/train.py --amp`` on a CPU (with
    ``BF16AutocastOptimWrapper`` for every optimizer); by hand::

        custom_hooks = [dict(type='BF16PolicyHook')]

    Args:
        channels_last (bool): Put the segmentor in NHWC (G and D follow their
            own ``channels_last``).
        fp32 (Sequence[str]): What runs outside autocast: ``'depthwise'``
            and/or children of the model (see :func:`keep_fp32`).
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
        for k, v in state.items():
            state[k] = v.contiguous()


def enable_amp(cfg: Config) -> None:
    """``--amp``: mixed precision for every optimizer wrapper in the config.

    On a CUDA GPU, mmengine's ``AmpOptimWrapper`` (fp16 with dynamic loss
    scaling, as mmseg's ``--amp``). Without one, the CPU policy:
    ``BF16AutocastOptimWrapper`` (mmengine's wrapper refuses the CPU) and
    ``BF16PolicyHook``, refused where bf16 is emulated unless the config
    says ``allow_emulated_bf16=True``.

    Raises:
        ValueError: A wrapper of another type than ``OptimWrapper``.
        RuntimeError: No native bf16 on this CPU, and no override.
    """
    cuda = torch.cuda.is_available()
    allow = bool(cfg.get(OVERRIDE, False))
    if not cuda:
        check_native_bf16(allow, '--amp on a CPU')
    target = 'AmpOptimWrapper' if cuda else 'BF16AutocastOptimWrapper'
    optim = cfg.optim_wrapper
    wrappers = (
        [optim[k] for k in ('segmentor', 'generator',
                            'discriminator')] if optim.get('constructor')
        == 'SegGANOptimWrapperConstructor' else [optim])
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') == target:
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
            continue
        if wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
            raise ValueError('`--amp` is only supported when the optimizer '
                             'wrapper type is `OptimWrapper`, got '
                             f'{wrapper["type"]}.')
        wrapper['type'] = target
        if cuda:
            wrapper['loss_scale'] = 'dynamic'
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not cuda and 'BF16PolicyHook' not in [h.get('type') for h in hooks]:
        cfg.custom_hooks = hooks + [
            dict(type='BF16PolicyHook', allow_emulated_bf16=allow)
        ]
