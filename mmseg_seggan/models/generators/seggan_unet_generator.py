"""SegGAN generator with U-Net skips, the pix2pix generator the paper cites.

pix2pix (Isola et al., 2017), which SegGAN follows, uses a U-Net: each
decoder layer also gets the encoder output of the same resolution. Without
skips everything passes the 1/16-resolution bottleneck and the generator
paints a blurred class-mean image, so the gradient of its content loss says
little about where a boundary lies. The skips carry the mask's own
boundaries to full resolution. The input is still the mask only (never the
image), so the generator cannot copy the image.
"""
import torch
from mmseg.registry import MODELS

from .seggan_generator import SegGANGenerator


@MODELS.register_module()
class SegGANUNetGenerator(SegGANGenerator):
    """:class:`SegGANGenerator` with U-Net skip connections.

    The same 4 convolution + 4 transposed-convolution layers, widths,
    norms, dropout 0.5 and init; decoder layers 2-4 take the previous
    decoder output concatenated with the mirrored encoder output::

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
