# The honest CE-only control of the SegGAN config next to it: the same
# schedule and iterations, the phase-2 content and adversarial weights at 0.
_base_ = ['./seggan_deeplabv3_lite0-d16_1xb8-2000+300it_camvid-180x240.py']
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
