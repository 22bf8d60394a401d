# Phase 2 only: fine-tune the segmentor through a frozen, pre-trained GAN.
# load_from is the phase-1-only run's checkpoint (baseline segmentor + G + D):
#   python tools/train.py THIS --cfg-options load_from=<gan-pretrain>.pth
# The CE-only control is this config with the phase-2 content and
# adversarial loss_weight at 0 (see the -control variant next to it).
_base_ = ['./seggan_deeplabv3_r18-d16_1xb8-300+300it_toy-96x128.py']
finetune_iters = 300
model = dict(gan_iters=0)  # phase 2 only
train_cfg = dict(max_iters=finetune_iters, val_interval=150)
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
