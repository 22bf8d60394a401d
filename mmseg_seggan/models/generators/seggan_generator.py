from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ..utils import generation_init_weights


@MODELS.register_module()
class SegGANGenerator(BaseModule):
    """Mask-to-image G of SegGAN (Zhang et al. 2018); sees no image to copy.

    Args:
        num_classes, out_channels (int): Mask (C) and image channels (3).
        base_channels (int): First layer width; phase 2's main cost knob.
        dropout (float): pix2pix's, in the first three decoder layers.
        norm_cfg (dict, optional): Norm of the inner layers. Defaults to BN.
        init_std (float): Std of the N(0, std) init, used if init_cfg is None.
        channels_last (bool): Same function, faster CPU kernels.
    """
    num_down = 4

    def __init__(self,
                 num_classes: int,
                 out_channels: int = 3,
                 base_channels: int = 64,
                 dropout: float = 0.5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_std: float = 0.02,
                 channels_last: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.init_std = init_std
        chs = [base_channels * m for m in (1, 2, 4, 8)]
        act = dict(type='LeakyReLU', negative_slope=0.2)
        self.encoder = nn.Sequential(*[
            ConvModule(
                c_in,
                c_out,
                4,
                stride=2,
                padding=1,
                norm_cfg=None if i == 0 else norm_cfg,
                act_cfg=act)
            for i, (c_in, c_out) in enumerate(zip([num_classes] + chs, chs))
        ])
        dec_chs = [chs[2], chs[1], chs[0]]
        dec_in = self._decoder_in_channels(chs)
        layers = []
        for i, (c_in, c_out) in enumerate(zip(dec_in, dec_chs)):
            layer = [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
            if norm_cfg is not None:
                layer.append(build_norm_layer(norm_cfg, c_out)[1])
            layer.append(nn.ReLU(inplace=True))
            if dropout > 0:
                layer.append(nn.Dropout(dropout))
            layers.append(nn.Sequential(*layer))
        layers.append(
            nn.Sequential(
                nn.ConvTranspose2d(dec_in[3], out_channels, 4, 2, 1),
                nn.Tanh()))
        self.decoder = nn.Sequential(*layers)
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @staticmethod
    def _decoder_in_channels(chs: list) -> list:
        return chs[::-1]

    def _decode(self, features: list) -> torch.Tensor:
        return self.decoder(features[-1])

    def init_weights(self) -> None:
        """N(0, 0.02) init ("isotropic Gaussian") unless pretrained."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        generation_init_weights(self, self.init_std)
        self._is_init = True

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        """Paint a (N, 3, H, W) image in [-1, 1] from a (N, C, H, W) mask."""
        if mask.shape[1] != self.num_classes:
            raise ValueError(
                f'SegGANGenerator expects {self.num_classes} mask channels '
                f'(generator.num_classes) but got {mask.shape[1]}; set '
                '`model.generator.num_classes` to the dataset\'s class count.')
        h, w = mask.shape[-2:]
        m = 2**self.num_down
        pad_h, pad_w = (-h) % m, (-w) % m
        if self.training and mask.shape[0] * (h + pad_h) * (w + pad_w) <= m**2:
            raise ValueError(
                f'SegGANGenerator cannot train on one {h}x{w} mask: it needs '
                f'masks larger than {m}x{m} px or a batch of 2 or more. Raise '
                'the crop size (`crop_size` / the RandomCrop of '
                'train_pipeline) or the batch size.')
        if pad_h or pad_w:
            mask = F.pad(mask, (0, pad_w, 0, pad_h), mode='replicate')
        if self.channels_last:
            mask = mask.contiguous(memory_format=torch.channels_last)
        features = []
        x = mask
        for layer in self.encoder:
            x = layer(x)
            features.append(x)
        return self._decode(features)[..., :h, :w]
