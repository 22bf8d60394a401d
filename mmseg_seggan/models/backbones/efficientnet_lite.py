"""EfficientNet-Lite backbone as mmseg's ``MobileNetV2``; TF 'SAME' strided
padding and BN eps 1e-3 kept for the ImageNet weights (mean 127, std 128)."""
import math
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .efficientnet_lite_weights import load_backbone_state_dict

# EfficientNet-B0/Lite0: (expand ratio, kernel, stride, channels, repeats).
BASE_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2),
               (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192,
                                                     4), (6, 3, 1, 320, 1))
STEM_CHANNELS = 32  # not scaled in the Lite models


def round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """TF EfficientNet's width scaling: a multiple of 8, at most 10 % less."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def stage_settings(width: float, depth: float) -> List[Tuple[int, ...]]:
    """The stages of one arch; the first and last keep their depth."""
    settings = []
    last = len(BASE_STAGES) - 1
    for i, (expand, kernel, stride, channels,
            repeats) in enumerate(BASE_STAGES):
        if 0 < i < last:
            repeats = int(math.ceil(depth * repeats))
        settings.append(
            (expand, kernel, stride, round_channels(channels, width), repeats))
    return settings


def _whole_number(key: str, value, allowed: Sequence[int]) -> int:
    choices = (f'an integer from {allowed[0]} to {allowed[-1]}' if isinstance(
        allowed, range) else 'one of ' + ', '.join(map(str, allowed)))
    if isinstance(value, str):
        raise TypeError(
            f'EfficientNetLite({key}={value!r}) is a string; it must be the '
            f'number itself, {choices}. Write {key}={value.strip()} without '
            f'quotes (in --cfg-options: model.backbone.{key}='
            f'{value.strip()}).')
    if isinstance(value, bool) or not isinstance(value, int) \
            or value not in allowed:
        raise ValueError(
            f'EfficientNetLite({key}={value!r}) must be {choices}.')
    return value


def _stage_indices(out_indices: Union[int, Sequence[int]],
                   num_stages: int) -> Tuple[int, ...]:
    """Increasing stages only: heads pick features by position (in_index)."""
    if isinstance(out_indices, int) and not isinstance(out_indices, bool):
        return (_whole_number('out_indices', out_indices, range(num_stages)), )
    if isinstance(out_indices, (str, bytes)) or \
            not isinstance(out_indices, Sequence):
        raise TypeError(
            f'EfficientNetLite(out_indices={out_indices!r}) must be a stage '
            'index or a tuple of them, e.g. (1, 2, 4, 6).')
    indices = tuple(out_indices)
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, int) \
                or index not in range(num_stages):
            raise ValueError(
                f'EfficientNetLite(out_indices={indices!r}): {index!r} is not '
                f'a stage; the stages are 0 to {num_stages - 1} (integers).')
    if list(indices) != sorted(set(indices)):
        raise ValueError(
            f'EfficientNetLite(out_indices={indices}): list the stages in '
            f'increasing order, each once, e.g. {tuple(sorted(set(indices)))}'
            '. The backbone returns them in stage order (stride 4 before '
            'stride 32), as mmseg\'s backbones do, and the head selects them '
            'by position (decode_head.in_index).')
    return indices


class LiteMBConv(BaseModule):
    """Inverted residual block of EfficientNet-Lite (no SE, ReLU6)."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 dilation: int,
                 expand_ratio: int,
                 drop_path_rate: float = 0.,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU6'),
                 with_cp: bool = False,
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg)
        self.with_cp = with_cp
        self.use_shortcut = stride == 1 and in_channels == out_channels
        hidden = in_channels * expand_ratio
        cfg = dict(bias=False, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.expand_conv = ConvModule(in_channels, hidden, 1, **cfg) \
            if expand_ratio != 1 else None
        # TF 'SAME' padding is asymmetric only when striding.
        same = dict(type='Conv2dAdaptivePadding') if stride > 1 else None
        pad = (kernel_size - 1) // 2 * dilation
        self.depthwise_conv = ConvModule(hidden, hidden, kernel_size, stride,
                                         pad, dilation, hidden,
                                         **dict(cfg, conv_cfg=same))
        self.linear_conv = ConvModule(hidden, out_channels, 1,
                                      **dict(cfg, act_cfg=None))
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 and self.use_shortcut else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:

        def _inner_forward(x):
            out = x if self.expand_conv is None else self.expand_conv(x)
            out = self.linear_conv(self.depthwise_conv(out))
            if self.use_shortcut:
                out = x + self.drop_path(out)
            return out

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(_inner_forward, x, use_reentrant=False)
        return _inner_forward(x)


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite backbone for dense prediction (arch: lite0/1/2).

    The 7 stages end at stride 2, 4, 8, 16, 16, 32, 32. ImageNet weights: a
    Pretrained ``init_cfg`` of ``efficientnet-lite://ARCH`` or a local file.

    Args:
        out_indices (int | Sequence[int]): Stages returned, increasing.
        output_stride (int): 32, 16 or 8 (later stages dilated instead).
        frozen_stages (int): -1 none, 0 the stem, k also layer1..layer{k}.
        norm_cfg, act_cfg (dict): BN/SyncBN (eps 1e-3) and ReLU6, as trained.
        norm_eval, with_cp (bool): BN kept in eval mode; checkpointed blocks.
        drop_path_rate (float): Stochastic depth, linear in the block index.
        init_cfg (dict, optional): See above; ``pretrained``: deprecated form.
    """
    arch_settings = {
        'lite0': (1.0, 1.0),
        'lite1': (1.0, 1.1),
        'lite2': (1.1, 1.2),
    }

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Union[int, Sequence[int]] = (1, 2, 4, 6),
                 output_stride: int = 32,
                 frozen_stages: int = -1,
                 norm_cfg: ConfigType = dict(
                     type='BN', eps=1e-3, momentum=0.01),
                 act_cfg: ConfigType = dict(type='ReLU6'),
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.,
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f'EfficientNetLite(arch={arch!r}): choose one of '
                           f'{sorted(self.arch_settings)}.')
        _whole_number('output_stride', output_stride, (8, 16, 32))
        stages = stage_settings(*self.arch_settings[arch])
        out_indices = _stage_indices(out_indices, len(stages))
        frozen_range = range(-1, len(stages) + 1)
        _whole_number('frozen_stages', frozen_stages, frozen_range)
        if pretrained is not None:
            init_cfg = self._pretrained_to_init_cfg(pretrained, init_cfg)
            self.init_cfg = init_cfg
        if init_cfg is None:
            self.init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm'])
            ]
        self.arch = arch
        self.out_indices = tuple(out_indices)
        self.output_stride = output_stride
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        same = dict(type='Conv2dAdaptivePadding')
        self.conv1 = ConvModule(
            3, STEM_CHANNELS, 3, 2,
            **dict(
                bias=False, conv_cfg=same, norm_cfg=norm_cfg, act_cfg=act_cfg))
        num_blocks = sum(s[-1] for s in stages)
        block_index = 0
        current_stride, rate = 2, 1
        in_channels = STEM_CHANNELS
        self.layers = []
        self.out_channels = []
        for i, (expand, kernel, stride, channels,
                repeats) in enumerate(stages):
            blocks = []
            for j in range(repeats):
                block_stride = stride if j == 0 else 1
                dilation = rate
                if block_stride > 1 and current_stride >= output_stride:
                    rate *= block_stride  # later blocks see the lost stride
                    block_stride = 1
                else:
                    current_stride *= block_stride
                blocks.append(
                    LiteMBConv(in_channels, channels, kernel, block_stride,
                               dilation, expand,
                               drop_path_rate * block_index / num_blocks,
                               norm_cfg, act_cfg, with_cp))
                in_channels = channels
                block_index += 1
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, nn.Sequential(*blocks))
            self.layers.append(layer_name)
            self.out_channels.append(channels)

    @staticmethod
    def _pretrained_to_init_cfg(pretrained, init_cfg: OptConfigType) -> dict:
        if not isinstance(pretrained, str):
            raise TypeError(
                f'EfficientNetLite(pretrained={pretrained!r}) must be a '
                "checkpoint path or URL such as 'efficientnet-lite://lite0', "
                'or None.')
        wanted = dict(type='Pretrained', checkpoint=pretrained)
        if init_cfg is not None and dict(init_cfg) != wanted:
            raise ValueError(
                f'Both pretrained={pretrained!r} (model.pretrained or '
                f'model.backbone.pretrained) and init_cfg={dict(init_cfg)} '
                '(model.backbone.init_cfg) say how to initialize '
                'EfficientNetLite. Keep one: e.g. set model.backbone.'
                f"init_cfg=dict(type='Pretrained', checkpoint={pretrained!r})"
                ' and model.pretrained=None.')
        warnings.warn(
            'DeprecationWarning: EfficientNetLite(pretrained=...) is '
            "deprecated, as in mmseg's backbones; use model.backbone."
            f"init_cfg=dict(type='Pretrained', checkpoint={pretrained!r}).")
        return wanted

    def init_weights(self) -> None:
        """Load ImageNet weights strictly when ``init_cfg`` is Pretrained."""
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            checkpoint = self.init_cfg['checkpoint']
            state = load_backbone_state_dict(checkpoint,
                                             self.init_cfg.get('prefix'))
            try:
                self.load_state_dict(state, strict=True)
            except RuntimeError as e:
                raise RuntimeError(
                    f'EfficientNetLite(arch={self.arch!r}) cannot load '
                    f'{checkpoint}: {e}\nThe weights must be those of the '
                    'same arch (efficientnet-lite://lite0, lite1 or lite2).'
                ) from None
            self._is_init = True
            self._freeze_stages()
            return
        super().init_weights()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, layer_name in enumerate(self.layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages + 1):
            module = getattr(self, f'layer{i}' if i else 'conv1')
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
