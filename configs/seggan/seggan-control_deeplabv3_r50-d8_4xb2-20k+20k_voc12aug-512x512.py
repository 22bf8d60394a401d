# The honest CE-only control of the SegGAN config next to it: the same
# schedule and iterations (20k more plain fine-tuning from the zoo weights),
# the phase-2 content and adversarial weights at 0.
_base_ = ['./seggan_deeplabv3_r50-d8_4xb2-20k+20k_voc12aug-512x512.py']
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
