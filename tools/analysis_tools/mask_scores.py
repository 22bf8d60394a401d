"""Label-free mask quality from SegGAN's trained mask-to-image generator.

SegGAN's premise, read backwards: a generator G trained to paint an image
from its ground-truth mask paints the image well from a correct mask and
badly where the mask is wrong. So, without any label,

* a predicted mask can be scored by how well G paints the image from it
  (``predict`` mode), and
* a ground-truth mask can be scored the same way, against the prediction as
  an image-specific reference, to flag annotation errors (``audit`` mode).

Everything runs at the segmentor's input scale (after the test pipeline's
resize), the scale G was trained at; padding added by the data preprocessor
is left out of every statistic. Used by ``mask_quality.py`` next to it.

Call graph of one batch::

    gan_view(model, data_batch)                      -> GANView
      preprocessor -> inference -> softmax p, argmax y
      G(p), G(one_hot(y)), G(one_hot(gt))            (G, D in eval mode)
    image_statistics(view)                           -> [dict per image]
      err_*, entropy, d_* per image
    SCORES[name](stats)                             -> quality, higher=better

(``gan_view`` lives in ``mmseg_seggan.models.utils``: the reconstruction
panels of training use it too.)
"""
import math
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats as sp_stats
from torch import Tensor

from mmseg_seggan.models.utils import GANView

_EPS = 1e-6


def pixel_error(fake: Tensor, real: Tensor) -> Tensor:
    """Per-pixel squared error, averaged over colour channels: (N, H, W)."""
    return ((fake - real)**2).mean(dim=1)


def pixel_entropy(prob: Tensor) -> Tensor:
    """Per-pixel softmax entropy in nats: (N, H, W)."""
    return -(prob * prob.clamp_min(1e-12).log()).sum(dim=1)


def _masked_mean(x: Tensor, mask: Tensor) -> float:
    n = int(mask.sum())
    return float(x[mask].mean()) if n else float('nan')


def high_frequency_energy(image: Tensor, sigma: float = 2.0) -> Tensor:
    """Per-pixel squared difference of the grey image and its Gaussian blur.

    A label-free, model-free measure of how busy an image is: the control
    for scores that may only track image difficulty. Returns (N, H, W).
    """
    gray = image.mean(dim=1, keepdim=True)
    radius = int(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=gray.dtype, device=gray.device)
    k = torch.exp(-x**2 / (2 * sigma**2))
    k = k / k.sum()
    pad = min(radius, gray.shape[-1] - 1, gray.shape[-2] - 1)
    k = k[radius - pad:radius + pad + 1]
    blur = F.pad(gray, (pad, pad, pad, pad), mode='reflect')
    blur = F.conv2d(blur, k.view(1, 1, 1, -1))
    blur = F.conv2d(blur, k.view(1, 1, -1, 1))
    return ((gray - blur)**2)[:, 0]


def _class_means(x: Tensor, labels: Tensor, mask: Tensor,
                 num_classes: int) -> Tensor:
    """Mean of ``x`` over each class's pixels within ``mask``; only the
    classes that occur there (so every region counts once, as in mIoU)."""
    lab = labels[mask].reshape(-1)
    sums = torch.bincount(
        lab, weights=x[mask].reshape(-1).double(),
        minlength=num_classes)[:num_classes]
    counts = torch.bincount(lab, minlength=num_classes)[:num_classes]
    present = counts > 0
    return (sums[present] / counts[present]).float()


def image_statistics(view: GANView) -> List[Dict[str, float]]:
    """Per-image statistics every score below is built from.

    Keys (means over the image's non-padded pixels, ``*_valid`` over its
    labelled pixels): ``err_pred`` (G(soft prediction) vs image),
    ``err_hard`` (G(one-hot prediction)), ``err_null`` (G(uniform mask)),
    ``entropy``, ``d_pred`` (mean D logit of G(prediction)), ``image_hf``
    (:func:`high_frequency_energy`), and the
    class-balanced ``log_err_pred_cb`` and ``entropy_cb`` (means over the
    predicted classes of the per-class mean, every class counting once as
    in mIoU); with GT also ``err_gt`` (G(one-hot GT)), ``err_pred_valid``,
    ``err_hard_valid``, ``d_gt``, ``disagree`` (share of labelled pixels
    where prediction and GT differ), ``disagree_g`` (share where they differ
    and G's error is lower from the prediction) and ``log_ratio_gt_cb``
    (mean over the GT classes of log(err_gt / err_hard) within each class).

    Args:
        view: The batch from :func:`gan_view`.

    Returns:
        list[dict]: One dict of floats per image.
    """
    e_pred = pixel_error(view.fake_pred, view.image)
    e_hard = pixel_error(view.fake_hard, view.image)
    e_null = pixel_error(view.fake_null, view.image)
    ent = pixel_entropy(view.prob)
    busy = high_frequency_energy(view.image)
    e_gt = None if view.gt is None else pixel_error(view.fake_gt, view.image)
    num_classes = view.prob.shape[1]
    out = []
    for i in range(len(view)):
        r = view.region[i]
        rec = dict(
            err_pred=_masked_mean(e_pred[i], r),
            err_hard=_masked_mean(e_hard[i], r),
            err_null=_masked_mean(e_null[i], r),
            entropy=_masked_mean(ent[i], r),
            image_hf=_masked_mean(busy[i], r),
            d_pred=float(view.d_pred[i]),
            log_err_pred_cb=float(
                _class_means(e_pred[i], view.pred[i], r,
                             num_classes).add(_EPS).log().mean()),
            entropy_cb=float(
                _class_means(ent[i], view.pred[i], r, num_classes).mean()))
        if e_gt is not None:
            v = r & (view.gt[i] != view.ignore_index)
            rec.update(
                err_gt=_masked_mean(e_gt[i], v),
                err_pred_valid=_masked_mean(e_pred[i], v),
                err_hard_valid=_masked_mean(e_hard[i], v),
                d_gt=float(view.d_gt[i]),
                disagree=_masked_mean((view.pred[i] != view.gt[i]).float(), v),
                disagree_g=_masked_mean(((view.pred[i] != view.gt[i]) &
                                         (e_gt[i] > e_hard[i])).float(), v))
            if v.any():
                num = _class_means(e_gt[i], view.gt[i], v, num_classes)
                den = _class_means(e_hard[i], view.gt[i], v, num_classes)
                rec['log_ratio_gt_cb'] = float(
                    ((num + _EPS) / (den + _EPS)).log().mean())
        out.append(rec)
    return out


def _log_ratio(num: float, den: float) -> float:
    return -math.log((num + _EPS) / (den + _EPS))


# Quality scores of a *predicted* mask: higher = better, no label used.
PREDICT_SCORES: Dict[str, Callable[[dict], float]] = {
    # G's error from the soft prediction (the phase-2 content loss).
    'recon': lambda s: -math.log(s['err_pred'] + _EPS),
    # ... relative to the same G's error from the hard prediction: G paints
    # a confident, correct mask as well as its one-hot version.
    'recon_ratio': lambda s: _log_ratio(s['err_pred'], s['err_hard']),
    # ... relative to G's error from an uninformative (uniform) mask: the
    # share of the image the mask explains, insensitive to how hard the
    # image is to paint at all.
    'recon_gain': lambda s: _log_ratio(s['err_pred'], s['err_null']),
    # Class-balanced: G's log error per predicted region, every region
    # counting once (per-image mIoU weighs a missed car like the road).
    'recon_cb': lambda s: -s['log_err_pred_cb'],
    # D's opinion of G(prediction): does the painting look real?
    'disc': lambda s: s['d_pred'],
    # Trivial baseline: the segmentor's own uncertainty.
    'entropy': lambda s: -s['entropy'],
    'entropy_cb': lambda s: -s['entropy_cb'],
    # Control without segmentor or G: busy (textured) images score low.
    # A G-based score that does no better only measures image difficulty.
    'image_hf': lambda s: -math.log(s['image_hf'] + _EPS),
}
# Quality scores of a *ground-truth* mask (audit): higher = more plausible.
AUDIT_SCORES: Dict[str, Callable[[dict], float]] = {
    # G's error from the GT relative to its error from the prediction on
    # the same pixels: the prediction is an image-specific reference.
    'audit_ratio': lambda s: _log_ratio(s['err_gt'], s['err_hard_valid']),
    # Class-balanced: the ratio per GT class region, each counting once.
    'audit_ratio_cb': lambda s: -s['log_ratio_gt_cb'],
    # Raw G error from the GT.
    'audit_recon': lambda s: -math.log(s['err_gt'] + _EPS),
    # Difference instead of ratio to the prediction's error.
    'audit_diff': lambda s: s['err_hard_valid'] - s['err_gt'],
    'audit_disc': lambda s: s['d_gt'],
    # Trivial baseline without G: GT that disagrees with the prediction.
    'disagreement': lambda s: -s['disagree'],
    # ... counting only the disagreeing pixels where G paints the image
    # better from the prediction than from the GT: G says who is right.
    'disagreement_g': lambda s: -s['disagree_g'],
}
DEFAULT_PREDICT_SCORE = 'recon'
# The audit default is the one G-based score that met the bar on real CamVid
# (docs/mask_quality.md: 90 % of corrupted masks in the top 2k; audit_ratio
# 70 %); plain `disagreement` without G did better still and is reported.
DEFAULT_AUDIT_SCORE = 'disagreement_g'


def compute_scores(
        stats: Dict[str, float],
        table: Dict[str, Callable[[dict], float]]) -> Dict[str, float]:
    """All scores of ``table`` that ``stats`` has the inputs for."""
    out = {}
    for name, fn in table.items():
        try:
            out[name] = float(fn(stats))
        except KeyError:
            continue
    return out


def per_image_miou(pred: np.ndarray,
                   gt: np.ndarray,
                   num_classes: int,
                   ignore_index: int = 255) -> float:
    """mIoU of one image over the classes present in its GT or prediction.

    Args:
        pred: (H, W) predicted labels.
        gt: (H, W) ground-truth labels (``ignore_index`` ignored).
        num_classes: C.
        ignore_index: Label left out.

    Returns:
        float: Mean IoU over classes with a non-empty union; NaN if the
        image has no labelled pixel.
    """
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    gt = np.asarray(gt).reshape(-1).astype(np.int64)
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt differ in size: {pred.shape} vs '
                         f'{gt.shape}.')
    valid = (gt != ignore_index) & (gt >= 0) & (gt < num_classes)
    p, g = pred[valid], gt[valid]
    if g.size == 0:
        return float('nan')
    inter = np.bincount(g[p == g], minlength=num_classes)[:num_classes]
    area_p = np.bincount(p, minlength=num_classes)[:num_classes]
    area_g = np.bincount(g, minlength=num_classes)[:num_classes]
    union = area_p + area_g - inter
    present = union > 0
    return float((inter[present] / union[present]).mean())


def spearman(x: Sequence[float], y: Sequence[float]) -> Tuple[float, float]:
    """Spearman's rho and its p-value over the pairs where both are finite.

    Returns:
        tuple: (rho, p); NaNs with fewer than 3 pairs.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float('nan'), float('nan')
    res = sp_stats.spearmanr(x[ok], y[ok])
    return float(res.statistic), float(res.pvalue)


def rank_worst_first(quality: Sequence[float]) -> np.ndarray:
    """Indices from the lowest quality (most suspicious) to the highest."""
    q = np.asarray(quality, float)
    q = np.where(np.isfinite(q), q, np.inf)  # unscorable images go last
    return np.argsort(q, kind='stable')


def precision_at_k(quality: Sequence[float], flagged: Sequence[bool],
                   k: int) -> float:
    """Share of truly ``flagged`` items among the ``k`` worst by quality."""
    if k <= 0:
        raise ValueError(f'k must be positive, got {k}.')
    order = rank_worst_first(quality)[:k]
    return float(np.asarray(flagged, bool)[order].sum()) / k


def recall_at_k(quality: Sequence[float], flagged: Sequence[bool],
                k: int) -> float:
    """Share of the ``flagged`` items found among the ``k`` worst."""
    flagged = np.asarray(flagged, bool)
    if not flagged.any():
        return float('nan')
    order = rank_worst_first(quality)[:k]
    return float(flagged[order].sum()) / float(flagged.sum())
