"""Keep the segmentor channels-last (NHWC): an opt-in fp32 speed lever.

Whether NHWC convolutions are faster depends on the CPU and torch's kernel
choice (docs/benchmarks.md); they reorder the convolutions' sums, so a run
with this hook differs from one without in the last digits.
``BF16PolicyHook`` does the same as part of the bf16 policy.
"""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def segmentor_to_channels_last(model: nn.Module) -> int:
    """Put the segmentor's 4-d weights in NHWC, in place (activations
    follow); SegGAN's G and D keep their own ``channels_last`` switch.

    Returns:
        int: How many top-level modules were converted.
    """
    model = model.module if is_model_wrapper(model) else model
    children = [
        m for n, m in model.named_children()
        if n not in ('generator', 'discriminator', 'data_preprocessor')
    ]
    for child in children:
        child.to(memory_format=torch.channels_last)
    return len(children)


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Run the segmentor channels-last, from before training, validation or
    testing: ``custom_hooks = [dict(type='ChannelsLastHook')]``."""
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        n = segmentor_to_channels_last(runner.model)
        runner.logger.info(f'Segmentor channels-last ({n} modules).')
