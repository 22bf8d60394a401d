from .gan_losses import gan_loss, masked_mse_loss

__all__ = ['gan_loss', 'masked_mse_loss']
