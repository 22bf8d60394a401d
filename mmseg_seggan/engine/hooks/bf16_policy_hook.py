"""CPU precision policy of --amp: bf16 only where faster (depthwise convs in
fp32 channels-last; emulated bf16, slower throughout, refused unless told)."""
import logging
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
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
    """Hooks running a module in fp32 (always_call: autocast back on error);
    with ``cast_back`` its output returns in its input's dtype, so that the
    ops after it (BN, activations) run in bf16 as after any other layer."""

    def __init__(self, cast_back: bool):
        self.cast_back = cast_back
        self._open = []

    def pre(self, module, args):
        x = next((a for a in args if torch.is_tensor(a)), None)
        if x is None or not torch.is_autocast_enabled(x.device.type):
            self._open.append(None)
            return None
        ctx = torch.autocast(x.device.type, enabled=False)
        ctx.__enter__()
        self._open.append((ctx, x.dtype))
        return tuple(
            a.float() if torch.is_tensor(a) and a.is_floating_point() else a
            for a in args)

    def post(self, module, args, output):
        entry = self._open.pop()
        if entry is None:
            return None
        entry[0].__exit__(None, None, None)
        if self.cast_back and torch.is_tensor(output):
            return output.to(entry[1])


class _FlippedInputGrad(torch.autograd.Function):
    """A stride-1 depthwise conv whose input gradient is the forward conv of
    the output gradient with the kernel flipped (for dilated kernels,
    oneDNN's own input gradient is several times slower)."""

    @staticmethod
    def forward(ctx, x, weight, bias, conv):
        ctx.save_for_backward(x, weight)
        ctx.conv = conv
        return F.conv2d(x, weight, bias, 1, conv.padding, conv.dilation,
                        conv.groups)

    @staticmethod
    def backward(ctx, grad):
        (x, weight), c = ctx.saved_tensors, ctx.conv
        w = weight.to(grad.dtype)  # under autocast the forward ran in bf16
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            pad = [d * (k - 1) - p for k, d, p in _kdp(c)]
            grad_x = F.conv2d(grad, w.flip(-2, -1), None, 1, pad, c.dilation,
                              c.groups).to(x.dtype)
        if need_w:
            grad_w = torch.ops.aten.convolution_backward(
                grad, x.to(grad.dtype), w, None, c.stride, c.padding,
                c.dilation, False, [0, 0], c.groups, [False, True, False])[1]
            grad_w = grad_w.to(weight.dtype)
        if need_b:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None


def _kdp(conv):
    return zip(conv.kernel_size, conv.dilation, conv.padding)


def _depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and 1 < m.groups == m.in_channels


def _stride1_dilated_depthwise(m: nn.Module) -> bool:
    return (type(m) is nn.Conv2d and _depthwise(m) and m.stride == (1, 1)
            and m.dilation != (1, 1) and m.padding_mode == 'zeros'
            and not isinstance(m.padding, str) and all(d * (k - 1) >= p
                                                       for k, d, p in _kdp(m)))


class DilatedDepthwiseConv2d(nn.Conv2d):
    """``nn.Conv2d`` with :class:`_FlippedInputGrad`'s backward."""

    def _conv_forward(self, x, weight, bias):
        return _FlippedInputGrad.apply(x, weight, bias, self)


def flip_dilated_depthwise_grads(model: nn.Module) -> int:
    """Make every stride-1 dilated depthwise ``nn.Conv2d`` of ``model`` a
    :class:`DilatedDepthwiseConv2d`, in place (as ``torch.nn.utils.
    parametrize`` swaps classes): parameters and state dict unchanged."""
    convs = [m for m in model.modules() if _stride1_dilated_depthwise(m)]
    for m in convs:
        m.__class__ = DilatedDepthwiseConv2d
    return len(convs)


def keep_fp32(model: nn.Module,
              fp32: Sequence[str],
              cast_back: bool = True) -> int:
    """Run ``fp32`` ('depthwise' convs, children's names) outside autocast,
    their outputs cast back to their inputs' dtype unless ``cast_back`` is
    False."""
    model = model.module if is_model_wrapper(model) else model
    children = dict(model.named_children())
    unknown = set(fp32) - {'depthwise'} - set(children)
    if unknown:
        raise ValueError(
            f'BF16PolicyHook.fp32: {sorted(unknown)} is neither "depthwise" '
            f'nor a child of the model ({sorted(children)}).')
    modules = [children[n] for n in fp32 if n != 'depthwise']
    if 'depthwise' in fp32:
        modules += [m for m in model.modules() if _depthwise(m)]
    for m in modules:
        island = _Island(cast_back)
        m.register_forward_pre_hook(island.pre)
        m.register_forward_hook(island.post, always_call=True)
    return len(modules)


@HOOKS.register_module()
class BF16PolicyHook(Hook):
    """Channels-last segmentor and fp32 islands for bf16 autocast training.

    Args:
        fp32 (Sequence[str]): What runs outside autocast (:func:`keep_fp32`).
        allow_emulated_bf16 (bool): Run even where bf16 is emulated.
        cast_back (bool): The ``fp32`` modules' outputs in their inputs'
            dtype (bf16 inside the step), not fp32.
        flip_dilated_grads (bool): Compute the input gradient of stride-1
            dilated depthwise convs as a forward conv (the same up to float
            rounding; several times faster in oneDNN).
    The defaults measured fastest on an AVX-512 + AMX Xeon
    (docs/benchmarks.md); ``cast_back=False, flip_dilated_grads=False`` is
    the policy before them.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 channels_last: bool = True,
                 fp32: Sequence[str] = ('depthwise', ),
                 allow_emulated_bf16: bool = False,
                 cast_back: bool = True,
                 flip_dilated_grads: bool = True):
        check_native_bf16(allow_emulated_bf16, 'BF16PolicyHook')
        self.channels_last = channels_last
        self.fp32 = tuple(fp32)
        self.cast_back = cast_back
        self.flip_dilated_grads = flip_dilated_grads

    def before_run(self, runner) -> None:
        if self.channels_last:
            segmentor_to_channels_last(runner.model)
        flipped = 0
        if self.flip_dilated_grads:
            flipped = flip_dilated_depthwise_grads(runner.model)
        n = keep_fp32(runner.model, self.fp32, self.cast_back)
        runner.logger.info(
            f'bf16 policy: segmentor channels-last {self.channels_last}, '
            f'{n} modules in fp32 under autocast ({", ".join(self.fp32)}; '
            f'outputs cast back: {self.cast_back}), {flipped} dilated '
            'depthwise convs with flipped-kernel input gradients.')

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
