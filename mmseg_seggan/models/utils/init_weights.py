"""The one weight init of SegGAN's generator and discriminator."""
import torch.nn as nn
from mmengine.model import normal_init


def generation_init_weights(module: nn.Module, init_std: float = 0.02) -> None:
    """DCGAN/pix2pix init: N(0, std) (transposed) convs, N(1, std) BN."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            normal_init(m, 0, init_std)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            normal_init(m, 1.0, init_std)
