"""Self-training on unlabeled images (Lee 2013): SegGAN-semi's baseline."""
import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def check_pseudo_label_threshold(threshold,
                                 key: str = 'pseudo_label_threshold') -> float:
    """``threshold`` if a number in (0, 1], or an error naming the key."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValueError(
            f'model.{key}={threshold!r} ({type(threshold).__name__}): a '
            'probability in (0, 1] is needed, as a number (e.g. 0.9, not the '
            f'string "0.9"). Fix `model.{key}` in the config or '
            '--cfg-options.')
    if not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise ValueError(f'model.{key}={threshold!r}: a probability in '
                         '(0, 1] is needed (0.9 is usual).')
    return threshold


def pseudo_label_loss(logits: Tensor, area: Tensor, threshold: float,
                      ignore_index: int) -> Tuple[Tensor, Tensor]:
    """CE on the confident (``>= threshold``) detached argmax; its ratio."""
    with torch.no_grad():
        conf, target = logits.softmax(dim=1).max(dim=1)
        keep = (conf >= threshold) & area
        target[~keep] = ignore_index
        ratio = keep.sum().float() / area.sum().clamp(min=1)
    if keep.any():
        loss = F.cross_entropy(logits, target, ignore_index=ignore_index)
    else:  # no confident pixel: a zero that keeps the graph
        loss = logits.sum() * 0.
    return loss, ratio


@MODELS.register_module()
class PseudoLabelLoss(nn.Module):
    """``loss_weight`` x :func:`pseudo_label_loss`, and the ratio.

    Args:
        loss_weight (float): Defaults to 1.
        threshold (float): Minimum top probability. Defaults to 0.9.
    """

    def __init__(self, loss_weight: float = 1.0, threshold: float = 0.9):
        super().__init__()
        self.loss_weight = loss_weight
        self.threshold = check_pseudo_label_threshold(
            threshold, 'pseudo_label_loss.threshold')

    def forward(self, logits: Tensor, area: Tensor,
                ignore_index: int) -> Tuple[Tensor, Tensor]:
        loss, ratio = pseudo_label_loss(logits, area, self.threshold,
                                        ignore_index)
        return self.loss_weight * loss, ratio
