"""Helpers for SegGAN under (separate) DistributedDataParallel."""
import torch
import torch.nn as nn
from mmengine.dist import broadcast
from mmengine.model import is_model_wrapper


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a (separate) DDP wrapper, if any."""
    return module.module if is_model_wrapper(module) else module


def broadcast_module_state(module: nn.Module, src: int = 0) -> None:
    """Make a module identical on every rank; frozen networks get no
    gradient reduction that would keep them in sync."""
    module = unwrap(module)
    for t in list(module.parameters()) + list(module.buffers()):
        if torch.is_floating_point(t):
            broadcast(t.data, src)
