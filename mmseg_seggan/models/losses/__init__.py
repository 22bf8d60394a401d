from .gan_losses import (SegGANAdvLoss, SegGANContentLoss, check_loss_weight,
                         gan_loss, masked_mse_loss)
from .pseudo_label_loss import (PseudoLabelLoss, check_pseudo_label_threshold,
                                pseudo_label_loss)

__all__ = [
    'gan_loss', 'masked_mse_loss', 'check_loss_weight', 'SegGANContentLoss',
    'SegGANAdvLoss', 'pseudo_label_loss', 'check_pseudo_label_threshold',
    'PseudoLabelLoss'
]
