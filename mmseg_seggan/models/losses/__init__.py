from .gan_losses import gan_loss, masked_mse_loss
from .pseudo_label_loss import check_pseudo_label_threshold, pseudo_label_loss

__all__ = [
    'gan_loss', 'masked_mse_loss', 'pseudo_label_loss',
    'check_pseudo_label_threshold'
]
