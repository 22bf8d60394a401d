"""Helpers for SegGAN under (separate) DistributedDataParallel."""
import torch
import torch.nn as nn
from mmengine.dist import broadcast
from mmengine.model import is_model_wrapper


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a (separate) DDP wrapper, if any."""
    return module.module if is_model_wrapper(module) else module


def broadcast_module_state(module: nn.Module, src: int = 0) -> None:
    """Sync a frozen module from ``src``: no gradient reduction does it."""
    module = unwrap(module)
    for t in list(module.parameters()) + list(module.buffers()):
        if torch.is_floating_point(t):
            broadcast(t.data, src)
