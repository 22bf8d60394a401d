# A tiny SegGAN (both phases) on ToyScenes for tests.
_base_ = ['./tiny_deeplabv3.py', '../../../configs/_base_/seggan_defaults.py']
model = dict(_base_.seggan_model, gan_iters=2)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []
train_cfg = dict(max_iters=4, val_interval=4)
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
