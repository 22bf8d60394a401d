# The CE-only control of the fine-tuning arm next to it: same start
# (load_from the same phase-1 checkpoint), schedule, seeds and iterations,
# the content and adversarial weights at 0.
_base_ = ['./seggan-finetune_deeplabv3_r18-d16_1xb4-150it_camvid-120x160.py']
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
