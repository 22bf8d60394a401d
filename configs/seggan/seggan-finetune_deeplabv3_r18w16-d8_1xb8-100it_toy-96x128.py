# The demo's phase 2 alone: fine-tune the baseline segmentor through the
# frozen, pre-trained G and D (the demo gives it the baseline's weights with
# load_from and G and D from the -gan-pretrain run with init_cfg).
# The CE-only control is this config with the GAN terms weighted 0 (the
# -control variant next to it).
_base_ = ['./seggan_deeplabv3_r18w16-d8_1xb8-150+100it_toy-96x128.py']
finetune_iters = 100
model = dict(gan_iters=0)  # phase 2 only
train_cfg = dict(max_iters=finetune_iters, val_interval=finetune_iters)
default_hooks = dict(checkpoint=dict(interval=finetune_iters))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
