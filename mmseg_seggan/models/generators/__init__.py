from .seggan_generator import SegGANGenerator

__all__ = ['SegGANGenerator']
