from .mask_corruption import (CORRUPTION_KINDS, changed_share,
                              choose_corruptions, corrupt_mask, punch_holes,
                              shift_mask, wrong_class_mask)
from .mask_quality import (AUDIT_SCORES, DEFAULT_AUDIT_SCORE,
                           DEFAULT_PREDICT_SCORE, PREDICT_SCORES, GANView,
                           compute_scores, gan_view, high_frequency_energy,
                           image_statistics, per_image_miou, pixel_entropy,
                           pixel_error, precision_at_k, rank_worst_first,
                           recall_at_k, spearman, unwrap_seggan)
from .metrics import PerClassIoUMetric

__all__ = [
    'AUDIT_SCORES', 'CORRUPTION_KINDS', 'DEFAULT_AUDIT_SCORE',
    'DEFAULT_PREDICT_SCORE', 'GANView', 'PerClassIoUMetric', 'PREDICT_SCORES',
    'changed_share', 'choose_corruptions', 'compute_scores', 'corrupt_mask',
    'gan_view', 'high_frequency_energy', 'image_statistics', 'per_image_miou',
    'pixel_entropy', 'pixel_error', 'precision_at_k', 'punch_holes',
    'rank_worst_first', 'recall_at_k', 'shift_mask', 'spearman',
    'unwrap_seggan', 'wrong_class_mask'
]
