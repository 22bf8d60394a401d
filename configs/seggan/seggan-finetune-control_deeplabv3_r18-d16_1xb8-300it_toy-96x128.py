# CE-only control of the phase-2-only config: same schedule, same start
# (load_from the same phase-1 checkpoint), GAN terms weighted 0.
_base_ = ['./seggan-finetune_deeplabv3_r18-d16_1xb8-300it_toy-96x128.py']
model = dict(
    phase2_content_loss=dict(loss_weight=0.0),
    phase2_adv_loss=dict(loss_weight=0.0))
