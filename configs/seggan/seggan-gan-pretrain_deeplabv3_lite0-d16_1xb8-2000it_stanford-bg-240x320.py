# Two-run SegGAN on Stanford Background (native 320x240), run 1: phase 1 only. G and D are pre-trained on
# ground-truth masks for 2000 iterations (Adam 1e-3, batch 8, the baseline's
# augmentation); the segmentor is untouched. Start it from the baseline:
#   --cfg-options load_from=<baseline>/iter_N.pth
# so its checkpoint holds the baseline segmentor + trained G and D, the common
# start of the SegGAN arm and its CE-only control.
_base_ = [
    '../deeplabv3/deeplabv3_lite0-d16_1xb8-3k_stanford-bg-240x320.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 2000
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
# No validation here or in the fine-tuning runs built on this config: the
# segmentor does not change in phase 1, and each fine-tuned checkpoint is
# tested once with tools/test.py (the protocol does).
train_cfg = dict(max_iters=gan_iters, val_interval=gan_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=1))
custom_hooks = [dict(type='SegGANPhaseHook', gan_pretrain_only=True)]
