# SegGAN on CamVid, both phases in one run: iterations [0, 800) pre-train
# G and D on ground-truth masks, [800, 1600) fine-tune the segmentor through
# the frozen GAN (Adam 1e-4). Start from the baseline:
#   --cfg-options load_from=work_dirs/<baseline>/iter_2000.pth
_base_ = [
    '../deeplabv3/deeplabv3_r18-d16_1xb4-2k_camvid-176x240.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 800
finetune_iters = 800
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters + finetune_iters, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
