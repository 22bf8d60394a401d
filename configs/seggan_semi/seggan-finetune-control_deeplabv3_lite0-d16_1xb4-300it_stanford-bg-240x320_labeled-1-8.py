# Semi-supervised setting, arm (a): cross-entropy on the labeled images only,
# the same start, batch, schedule and seeds as the SegGAN arms.
_base_ = [
    './seggan-finetune_deeplabv3_lite0-d16_1xb4-300it_stanford-bg-240x320_labeled-1-8.py'
]  # noqa: E501
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
