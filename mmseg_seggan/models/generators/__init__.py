from .seggan_generator import SegGANGenerator
from .seggan_unet_generator import SegGANUNetGenerator

__all__ = ['SegGANGenerator', 'SegGANUNetGenerator']
