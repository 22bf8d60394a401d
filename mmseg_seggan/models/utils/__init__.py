from .fuse_conv_bn import FrozenFusedCopy, fuse_conv_bn

__all__ = ['FrozenFusedCopy', 'fuse_conv_bn']
