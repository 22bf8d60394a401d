# The CE-only control of the fine-tuning run next to it: the same start
# (load_from the same phase-1 checkpoint), schedule, seeds and iterations,
# the content and adversarial weights at 0.
_base_ = ['./seggan-finetune_deeplabv3_lite0-d16_1xb8-300it_stanford-bg-240x320.py']  # noqa: E501
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
