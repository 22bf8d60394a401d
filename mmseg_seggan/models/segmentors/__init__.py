from .seggan import NonFiniteLossError, SegGAN

__all__ = ['NonFiniteLossError', 'SegGAN']
