"""Eval-mode BN folded into convs, in a copy kept out of checkpoints."""
import copy
from typing import List, Optional, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd, _ConvTransposeNd
from torch.nn.utils.fusion import fuse_conv_bn_eval


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    """A conv followed by a BN with running statistics (eval-mode BN)."""
    if not (isinstance(conv, _ConvNd) and isinstance(bn, _BatchNorm)):
        return False
    if bn.running_mean is None or conv.out_channels != bn.num_features:
        return False
    # A grouped transposed conv's weight is (in, out / groups, ...).
    return not (isinstance(conv, _ConvTransposeNd) and conv.groups != 1)


def _fused(conv: nn.Module, bn: _BatchNorm) -> nn.Module:
    return fuse_conv_bn_eval(
        conv, bn, transpose=isinstance(conv, _ConvTransposeNd))


def fuse_conv_bn(module: nn.Module) -> Tuple[nn.Module, int]:
    """Eval-mode, no-grad copy with conv + BN folded, and the count folded."""
    fused = copy.deepcopy(module).eval()
    fused.requires_grad_(False)
    folded = 0
    for m in list(fused.modules()):
        if isinstance(m, ConvModule):
            order = list(m.order)
            if m.with_norm and order.index('norm') == order.index('conv') + 1\
                    and _foldable(m.conv, m.norm):
                m.conv = _fused(m.conv, m.norm)
                setattr(m, m.norm_name, nn.Identity())
                folded += 1
        elif isinstance(m, nn.Sequential):
            names = list(m._modules)
            for prev, cur in zip(names, names[1:]):
                if _foldable(m._modules[prev], m._modules[cur]):
                    m._modules[prev] = _fused(m._modules[prev],
                                              m._modules[cur])
                    m._modules[cur] = nn.Identity()
                    folded += 1
    fused.requires_grad_(False)
    return fused, folded


class FrozenFusedCopy:
    """Folded copy of a frozen net, rebuilt on change; not in state dicts."""

    def __init__(self):
        self._key: Optional[List] = None
        self._fused: Optional[nn.Module] = None
        self.folded = 0

    @staticmethod
    def _state_key(module: nn.Module) -> List:
        tensors = list(module.parameters()) + list(module.buffers())
        return [(t.data_ptr(), t._version, t.dtype, t.device)
                for t in tensors] + [m.training for m in module.modules()]

    def get(self, module: nn.Module) -> nn.Module:
        """Folded copy; ``module`` itself if training, trainable or hooked."""
        if module.training or any(p.requires_grad
                                  for p in module.parameters()):
            return module
        if any(m._forward_hooks or m._forward_pre_hooks
               for m in module.modules()):
            return module  # a copy would silently skip what observes it
        key = self._state_key(module)
        if key != self._key:
            self._fused, self.folded = fuse_conv_bn(module)
            self._key = key
        return self._fused
