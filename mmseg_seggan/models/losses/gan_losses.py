import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


def masked_mse_loss(pred: torch.Tensor, target: torch.Tensor,
                    valid: torch.Tensor) -> torch.Tensor:
    """MSE over ``valid`` (N, 1, H, W) pixels (``l_C``); 0 if none."""
    valid = valid.to(pred.dtype)
    sq = (pred - target.to(pred.dtype))**2 * valid
    denom = (valid.sum() * pred.shape[1]).clamp(min=1.0)
    return sq.sum() / denom


def gan_loss(logits: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """BCE on D's logits; G's side is the non-saturating ``-log D(G(p))``."""
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    return F.binary_cross_entropy_with_logits(logits, target)


def check_loss_weight(weight, key: str) -> float:
    """``weight`` if finite and >= 0 (a negative one rewards the loss)."""
    if isinstance(weight, bool) or not isinstance(
            weight,
        (int, float)) or not (math.isfinite(weight) and weight >= 0):
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
    """``loss_weight * l_A`` (:func:`gan_loss`); ``is_disc``: D's unweighted.

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
