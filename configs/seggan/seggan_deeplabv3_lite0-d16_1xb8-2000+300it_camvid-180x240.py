# SegGAN on CamVid (240x180) with an ImageNet-pre-trained DeepLabV3-Lite0, both phases
# in one run: iterations [0, 2000) pre-train G and D on ground-truth masks,
# [2000, 2000+300) fine-tune the segmentor through the frozen GAN (Adam 1e-4).
# Start from the baseline:
#   --cfg-options load_from=work_dirs/<baseline>/iter_N.pth
_base_ = [
    '../deeplabv3/deeplabv3_lite0-d16_1xb8-2k_camvid-180x240.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 2000
finetune_iters = 300
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters + finetune_iters, val_interval=gan_iters)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=1))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
