"""The two GAN terms of SegGAN: masked content loss and adversarial loss."""
import torch
import torch.nn.functional as F


def masked_mse_loss(pred: torch.Tensor, target: torch.Tensor,
                    valid: torch.Tensor) -> torch.Tensor:
    """Mean squared error over valid pixels only (``l_C`` of the paper).

    Ignored (label 255) and padding pixels carry no image content that the
    mask could explain, so they are left out.

    Args:
        pred, target: (N, 3, H, W) images in [-1, 1].
        valid: (N, 1, H, W) bool or float mask of pixels to count.

    Returns:
        Tensor: scalar loss; 0 (with grad) if no pixel is valid.
    """
    valid = valid.to(pred.dtype)
    sq = (pred - target.to(pred.dtype))**2 * valid
    denom = (valid.sum() * pred.shape[1]).clamp(min=1.0)
    return sq.sum() / denom


def gan_loss(logits: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Binary cross entropy on discriminator logits.

    The generator side uses the non-saturating form ``-log D(G(p))``
    (``target_is_real=True`` on fakes), as the project reads the paper.
    """
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    return F.binary_cross_entropy_with_logits(logits, target)
