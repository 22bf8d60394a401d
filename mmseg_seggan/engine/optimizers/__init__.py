from .bf16_autocast_optim_wrapper import BF16AutocastOptimWrapper
from .seggan_optim_wrapper_constructor import (SegGANOptimWrapperConstructor,
                                               SegGANOptimWrapperDict)

__all__ = [
    'BF16AutocastOptimWrapper', 'SegGANOptimWrapperConstructor',
    'SegGANOptimWrapperDict'
]
