# Protocol stage 2 on Stanford Background: phase 1 only, G and D pre-trained on
# ground-truth masks for 300 iterations (Adam 1e-3), the segmentor untouched.
# Started from the baseline (--cfg-options load_from=<baseline>.pth), so its
# checkpoint holds the baseline segmentor + G + D for both phase-2 arms.
_base_ = [
    './deeplabv3_r18-d16_1xb4-600it_stanford-bg-120x160.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 300
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters, val_interval=gan_iters + 1)
custom_hooks = [dict(type='SegGANPhaseHook', gan_pretrain_only=True)]
