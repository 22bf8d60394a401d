# Phase 1 only: pre-train G and D on ground-truth masks. Start it from the
# baseline so that its checkpoint holds the untouched baseline segmentor plus
# the trained G and D, ready for the phase-2-only config:
#   python tools/train.py THIS --cfg-options load_from=<baseline>.pth
_base_ = ['./seggan_deeplabv3_r18-d16_1xb8-300+300it_toy-96x128.py']
gan_iters = 300
train_cfg = dict(max_iters=gan_iters, val_interval=gan_iters + 1)
model = dict(gan_iters=gan_iters)
custom_hooks = [dict(type='SegGANPhaseHook', gan_pretrain_only=True)]
val_cfg = None
val_dataloader = None
val_evaluator = None
