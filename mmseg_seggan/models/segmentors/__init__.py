from .seggan import SegGAN

__all__ = ['SegGAN']
