from .seggan_optim_wrapper_constructor import (SegGANOptimWrapperConstructor,
                                               SegGANOptimWrapperDict)

__all__ = ['SegGANOptimWrapperConstructor', 'SegGANOptimWrapperDict']
