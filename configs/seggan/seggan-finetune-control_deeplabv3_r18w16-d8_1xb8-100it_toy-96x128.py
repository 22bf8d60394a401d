# The demo's CE-only control: the phase-2-only config with the GAN terms
# weighted 0; same schedule, same start (baseline segmentor, phase-1 G, D).
_base_ = ['./seggan-finetune_deeplabv3_r18w16-d8_1xb8-100it_toy-96x128.py']
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
