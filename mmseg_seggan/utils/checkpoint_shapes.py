"""Refuse checkpoints whose tensors have other shapes than the model's
(mmengine only warns, leaving them random). Missing keys stay a warning: a
DeepLabV3 checkpoint into SegGAN (fresh G and D) is allowed."""
from typing import List, Mapping, Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch.nn.parameter import UninitializedParameter

from .checkpoint import CheckpointError

Mismatch = Tuple[str, tuple, tuple]
_MAX_LINES = 12  # of mismatches listed in an error


class CheckpointShapeError(CheckpointError):
    """Checkpoint tensors do not have the shapes of the model's."""


def find_shape_mismatches(module: nn.Module,
                          state_dict: Mapping) -> List[Mismatch]:
    """``(key, checkpoint shape, model shape)`` of each misfit entry."""
    while is_model_wrapper(module) or isinstance(module, BaseTTAModel):
        module = module.module
    own = module.state_dict(keep_vars=True)
    return [(key, tuple(value.shape), tuple(own[key].shape))
            for key, value in state_dict.items()
            if key in own and hasattr(value, 'shape')
            and not isinstance(own[key], UninitializedParameter)
            and tuple(value.shape) != tuple(own[key].shape)]


def _hint(mismatches: List[Mismatch]) -> str:
    for key, ckpt_shape, model_shape in mismatches:
        is_classifier = key.endswith(('conv_seg.weight', 'conv_seg.bias'))
        if is_classifier and ckpt_shape[1:] == model_shape[1:]:
            head = key.split('conv_seg')[0].rstrip('.') or 'decode_head'
            return (
                f'The checkpoint was trained for {ckpt_shape[0]} classes but '
                f'the config builds {model_shape[0]} (`model.{head}.'
                'num_classes`, and with it the generator\'s input channels): '
                'use a checkpoint of this dataset, or set num_classes to '
                'match the checkpoint.')
    return ('The config builds these layers with other sizes than the run '
            'that wrote the checkpoint: compare `num_classes`, '
            '`generator.base_channels`, `discriminator.base_channels`, '
            '`discriminator.conditional` and the backbone/head channels '
            'with that run\'s config.')


def check_state_dict_shapes(module: nn.Module,
                            state_dict: Mapping,
                            source: Optional[str] = None) -> None:
    """Raise :class:`CheckpointShapeError` naming every misfit tensor."""
    mismatches = find_shape_mismatches(module, state_dict)
    if not mismatches:
        return
    lines = '\n'.join(f'  {key}: checkpoint {list(c)} vs model {list(m)}'
                      for key, c, m in mismatches[:_MAX_LINES])
    if len(mismatches) > _MAX_LINES:
        lines += f'\n  ... and {len(mismatches) - _MAX_LINES} more'
    source = f' ({source})' if source else ''
    raise CheckpointShapeError(
        f'The checkpoint does not fit the model{source}: '
        f'{len(mismatches)} tensor(s) have other shapes, and loading would '
        f'leave them with random weights. Nothing was loaded.\n{lines}\n'
        f'{_hint(mismatches)} To re-initialise such layers on purpose (e.g. '
        'a new head for other classes), delete their keys from the '
        'checkpoint\'s state_dict before loading.')


def shape_check_pre_hook(module: nn.Module, state_dict: Mapping, prefix: str,
                         *args) -> None:
    """torch ``load_state_dict`` pre-hook on the entries under ``prefix``."""
    check_state_dict_shapes(
        module, {
            key[len(prefix):]: value
            for key, value in state_dict.items() if key.startswith(prefix)
        })


def add_shape_check(module: nn.Module) -> None:
    """Register :func:`shape_check_pre_hook` on ``module`` once."""
    hooks = module._load_state_dict_pre_hooks.values()
    if not any(getattr(h, 'hook', h) is shape_check_pre_hook for h in hooks):
        module.register_load_state_dict_pre_hook(shape_check_pre_hook)
