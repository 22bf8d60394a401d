"""Keep the segmentor channels-last (NHWC): an opt-in fp32 speed lever whose
gain depends on the CPU; it changes results in the last digits."""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def segmentor_to_channels_last(model: nn.Module) -> int:
    """Put the segmentor's weights in NHWC, in place (G and D have their own
    switch); return how many top-level modules."""
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
    """Run the segmentor channels-last, from before training or testing."""
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        n = segmentor_to_channels_last(runner.model)
        runner.logger.info(f'Segmentor channels-last ({n} modules).')
