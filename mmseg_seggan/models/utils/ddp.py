"""Helpers for SegGAN under (separate) DistributedDataParallel.

mmagic's ``MMSeparateDistributedDataParallel`` wraps each trainable child
(G, D, each segmentor part) in its own DDP, so the model reaches its
children through wrappers; these are the two things it needs for that.
"""
import torch
import torch.nn as nn
from mmengine.dist import broadcast
from mmengine.model import is_model_wrapper


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a (separate) DDP wrapper, if any.

    Args:
        module (nn.Module): A module, wrapped or not.

    Returns:
        nn.Module: ``module.module`` for a wrapper, else ``module``.
    """
    return module.module if is_model_wrapper(module) else module


def broadcast_module_state(module: nn.Module, src: int = 0) -> None:
    """Make a module identical on every rank (parameters and buffers).

    Frozen networks get no gradient reduction, so nothing else keeps them
    in sync (e.g. G and D when phase 2 begins).
    """
    module = unwrap(module)
    for t in list(module.parameters()) + list(module.buffers()):
        if torch.is_floating_point(t):
            broadcast(t.data, src)


__all__ = ['unwrap', 'broadcast_module_state']
