"""SegGAN generator with U-Net skips (pix2pix): without them all passes the
1/16 bottleneck and G paints blurred class means, not the boundaries."""
import torch
from mmseg.registry import MODELS

from .seggan_generator import SegGANGenerator


@MODELS.register_module()
class SegGANUNetGenerator(SegGANGenerator):
    """:class:`SegGANGenerator` with U-Net skips. Args: as the parent."""

    @staticmethod
    def _decoder_in_channels(chs: list) -> list:
        return [chs[3], 2 * chs[2], 2 * chs[1], 2 * chs[0]]

    def _decode(self, features: list) -> torch.Tensor:
        x = self.decoder[0](features[-1])
        for layer, skip in zip(self.decoder[1:], features[-2::-1]):
            x = layer(torch.cat([x, skip], dim=1))
        return x
