# Semi-supervised setting, stage 2: phase 1 (G and D on ground-truth masks)
# from the labeled-1/8 baseline, on the labeled images only (G needs masks),
# 1000 iterations (the labeled sets are small: 75-150 images on Stanford
# Background, 46-92 on CamVid; 8000 samples are 53-174 epochs of them).
#   --cfg-options load_from=<labeled baseline>/iter_1000.pth
_base_ = [
    './deeplabv3_lite0-d16_1xb8-1k_camvid-180x240_labeled-1-8.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 1000
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []
# No validation here or in the fine-tuning runs built on this config: the
# segmentor does not change in phase 1, and each fine-tuned checkpoint is
# tested once with tools/test.py (the protocol does).
train_cfg = dict(max_iters=gan_iters, val_interval=gan_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=1))
custom_hooks = [dict(type='SegGANPhaseHook', gan_pretrain_only=True)]
