from .seggan_optim_wrapper_constructor import SegGANOptimWrapperConstructor

__all__ = ['SegGANOptimWrapperConstructor']
