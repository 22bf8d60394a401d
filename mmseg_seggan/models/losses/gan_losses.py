"""SegGAN's two GAN terms: the masked content loss and the adversarial loss.

Both are used twice with different weights: in phase 1 to train G (and D),
in phase 2 through the frozen G and D to train the segmentor. The config
names each use (``phase1_content_loss``, ``phase2_adv_loss``, ...).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


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


def check_loss_weight(weight, key: str) -> float:
    """``weight`` if it is a finite number >= 0, else an error naming ``key``.

    A negative weight turns a loss into a reward (e.g. train the segmentor
    to make G's reconstruction worse); NaN/Inf poison every step. 0 is
    allowed: it switches the term off, as the CE-only control does.
    """
    if isinstance(weight, bool) or not isinstance(
            weight, (int, float)) or not (math.isfinite(weight)
                                          and weight >= 0):
        raise ValueError(
            f'model.{key}={weight!r}: loss weights must be finite numbers '
            '>= 0 (0 switches the term off, as the CE-only control does). '
            f'Fix `model.{key}` in the config or in --cfg-options.')
    return weight


@MODELS.register_module()
class SegGANContentLoss(nn.Module):
    """``loss_weight * l_C``: :func:`masked_mse_loss` of G's painting.

    Args:
        loss_weight (float): 100 in phase 1, 0.1 in phase 2 (paper).
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, fake: torch.Tensor, real: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * masked_mse_loss(fake, real, valid)


@MODELS.register_module()
class SegGANAdvLoss(nn.Module):
    """``loss_weight * l_A``: :func:`gan_loss` (BCE) of D's patch logits.

    As mmagic's ``GANLoss``, the weight applies to the generator side only:
    ``is_disc=True`` gives D's own, unweighted loss.

    Args:
        loss_weight (float): 1 in phase 1, 0.1 in phase 2 (paper).
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                logits: torch.Tensor,
                target_is_real: bool,
                is_disc: bool = False) -> torch.Tensor:
        loss = gan_loss(logits, target_is_real)
        return loss if is_disc else self.loss_weight * loss


__all__ = [
    'masked_mse_loss', 'gan_loss', 'check_loss_weight', 'SegGANContentLoss',
    'SegGANAdvLoss'
]
