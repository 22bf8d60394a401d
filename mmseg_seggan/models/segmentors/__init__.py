from ..utils import NonFiniteLossError
from .seggan import SegGAN

__all__ = ['NonFiniteLossError', 'SegGAN']
