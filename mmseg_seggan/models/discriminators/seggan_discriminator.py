from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ..utils import generation_init_weights


@MODELS.register_module()
class SegGANDiscriminator(BaseModule):
    """Patch discriminator of SegGAN: 3 stride-2 convs, one logit per patch.

    Args:
        in_channels, base_channels (int): Image channels; first layer width.
        num_classes (int): Mask channels, used only when ``conditional``.
        conditional (bool): Judge (mask, image) pairs; False: the paper's D.
        norm_cfg (dict, optional): Norm of layers 2 and 3. Defaults to BN.
        init_std (float): Std of the N(0, std) init, used if init_cfg is None.
        channels_last (bool): As in ``SegGANGenerator``. Defaults to True.
    """
    min_size = 16  # the smallest input with one patch logit

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_classes: Optional[int] = None,
                 conditional: bool = False,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_std: float = 0.02,
                 channels_last: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if conditional and not num_classes:
            raise ValueError('SegGANDiscriminator(conditional=True) needs '
                             '`num_classes` (the mask channels).')
        self.conditional = conditional
        self.num_classes = num_classes
        self.init_std = init_std
        c_in = in_channels + (num_classes if conditional else 0)
        chs = [base_channels, base_channels * 2, base_channels * 4]
        relu = dict(type='ReLU')
        self.layers = nn.Sequential(
            ConvModule(c_in, chs[0], 4, 2, 1, norm_cfg=None, act_cfg=relu),
            ConvModule(
                chs[0], chs[1], 4, 2, 1, norm_cfg=norm_cfg, act_cfg=relu),
            ConvModule(
                chs[1], chs[2], 4, 2, 1, norm_cfg=norm_cfg, act_cfg=relu),
            nn.Conv2d(chs[2], 1, 4, 1, 1))
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def init_weights(self) -> None:
        """N(0, 0.02) init unless pretrained."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        generation_init_weights(self, self.init_std)
        self._is_init = True

    def forward(self,
                img: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Return patch logits (N, 1, h, w) for images in [-1, 1]."""
        if min(img.shape[-2:]) < self.min_size:
            raise ValueError(
                f'SegGANDiscriminator needs images of at least '
                f'{self.min_size}x{self.min_size} px (three stride-2 4x4 '
                f'convolutions, then a 4x4 patch convolution), got '
                f'{tuple(img.shape[-2:])}. Raise the crop size (`crop_size` '
                '/ the RandomCrop of train_pipeline) of the config.')
        if self.conditional:
            if mask is None:
                raise ValueError('A conditional SegGANDiscriminator needs the '
                                 'mask as its second input.')
            img = torch.cat([img, mask], dim=1)
        if self.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)
        return self.layers(img)
