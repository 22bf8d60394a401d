# Semi-supervised setting, arm (d): the simple strong baseline on the same
# unlabeled images: self-training with confidence-thresholded pseudo-labels
# (Lee 2013): cross-entropy on the labeled images plus cross-entropy on the
# segmentor's own confident (p >= 0.9) predictions of the unlabeled ones; no
# GAN term. Same batches (4 + 4), start and schedule as arm (c).
_base_ = [
    './seggan-semi_deeplabv3_lite0-d16_1xb4+4-300it_stanford-bg-240x320_labeled-1-8.py'
]  # noqa: E501
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0),
    pseudo_label_loss=dict(
        type='PseudoLabelLoss', loss_weight=1.0, threshold=0.9))
