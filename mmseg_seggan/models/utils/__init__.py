from .ddp import broadcast_module_state, unwrap
from .fuse_conv_bn import FrozenFusedCopy, fuse_conv_bn
from .nonfinite_loss import NonFiniteLossError, NonFiniteLossPolicy

__all__ = [
    'unwrap', 'broadcast_module_state', 'NonFiniteLossError',
    'NonFiniteLossPolicy', 'FrozenFusedCopy', 'fuse_conv_bn'
]
