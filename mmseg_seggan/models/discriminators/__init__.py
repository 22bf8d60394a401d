from .seggan_discriminator import SegGANDiscriminator

__all__ = ['SegGANDiscriminator']
