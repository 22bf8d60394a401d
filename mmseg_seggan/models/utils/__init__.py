from .ddp import broadcast_module_state, unwrap
from .fuse_conv_bn import FrozenFusedCopy, fuse_conv_bn
from .gan_inputs import content_mask, image_area, one_hot, real_image
from .gan_view import GANView, gan_view, unwrap_seggan
from .init_weights import generation_init_weights
from .nonfinite_loss import NonFiniteLossError, NonFiniteLossPolicy

__all__ = [
    'unwrap', 'broadcast_module_state', 'NonFiniteLossError',
    'NonFiniteLossPolicy', 'FrozenFusedCopy', 'fuse_conv_bn', 'real_image',
    'one_hot', 'image_area', 'content_mask', 'GANView', 'gan_view',
    'unwrap_seggan', 'generation_init_weights'
]
