"""SegGAN generator with U-Net skips, as pix2pix's.

Without skips everything passes the 1/16 bottleneck and G paints a blurred
class-mean image; the skips carry the mask's boundaries to full resolution.
"""
import torch
from mmseg.registry import MODELS

from .seggan_generator import SegGANGenerator


@MODELS.register_module()
class SegGANUNetGenerator(SegGANGenerator):
    """:class:`SegGANGenerator` with U-Net skip connections.

    Decoder layers 2-4 also take the mirrored encoder output::

        mask -> e1 (c, 1/2) -> e2 (2c, 1/4) -> e3 (4c, 1/8) -> e4 (8c, 1/16)
        d1 = up(e4)            (4c, 1/8)
        d2 = up([d1, e3])      (2c, 1/4)
        d3 = up([d2, e2])      (c, 1/2)
        image = tanh(up([d3, e1]))

    Args: as :class:`SegGANGenerator`.
    """

    @staticmethod
    def _decoder_in_channels(chs: list) -> list:
        return [chs[3], 2 * chs[2], 2 * chs[1], 2 * chs[0]]

    def _decode(self, features: list) -> torch.Tensor:
        x = self.decoder[0](features[-1])
        for layer, skip in zip(self.decoder[1:], features[-2::-1]):
            x = layer(torch.cat([x, skip], dim=1))
        return x
