"""Keep the segmentor channels-last (NHWC): an opt-in speed lever.

Whether NHWC convolutions are faster depends on the machine and torch's
kernel choice (at one thread torch runs NCHW 1x1 convolutions as plain GEMMs,
NHWC ones in oneDNN): the Lite0 Stanford steps took 0.76x the time on an
AVX-512 CPU, and 0.85x (CE) / 0.86x (phase 2) of their CPU time on this
project's AVX2 machine (benchmark_seggan.py --clock cpu; an earlier
wall-clock measurement on a loaded machine saw no gain). It is off unless
this hook is named in ``custom_hooks``: it reorders the floating-point sums
of the convolutions, so a run with it differs from one without in the last
digits.
"""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

# G and D have their own switch (``channels_last`` of each).
_OWN_SWITCH = ('generator', 'discriminator', 'data_preprocessor')


def segmentor_to_channels_last(model: nn.Module) -> int:
    """Put the 4-d weights of the segmentor's modules in NHWC, in place.

    Activations follow: a convolution with NHWC weights returns NHWC.

    Args:
        model: An ``EncoderDecoder`` (or ``SegGAN``, whose G and D are left
            to their own ``channels_last``), possibly wrapped.

    Returns:
        int: How many top-level modules were converted.
    """
    model = model.module if is_model_wrapper(model) else model
    converted = 0
    for name, child in model.named_children():
        if name not in _OWN_SWITCH:
            child.to(memory_format=torch.channels_last)
            converted += 1
    return converted


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Run the segmentor in channels-last memory format.

    Usage: ``custom_hooks = [dict(type='ChannelsLastHook')]`` (or
    ``--cfg-options "custom_hooks=[dict(type='ChannelsLastHook')]"`` on
    a config without other custom hooks). Applied before training,
    validation or testing start; loaded weights keep the layout.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        n = segmentor_to_channels_last(runner.model)
        runner.logger.info(f'Segmentor channels-last ({n} modules).')
