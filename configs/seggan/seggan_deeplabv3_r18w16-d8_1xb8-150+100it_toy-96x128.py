# The demo's SegGAN (tools/run_demo.sh) in one run: iterations [0, 150)
# pre-train G and D (width 16) on ground-truth masks, [150, 250) fine-tune
# the quarter-width DeepLabV3 through the frozen GAN. Start from the
# baseline:  --cfg-options load_from=work_dirs/<baseline>/iter_300.pth
# The demo runs the two phases as two runs (the -gan-pretrain and -finetune
# configs next to this one), phase 1 beside the baseline.
_base_ = [
    '../deeplabv3/deeplabv3_r18w16-d8_1xb8-300it_toy-96x128.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 150
finetune_iters = 100
model = _base_.seggan_model
model.gan_iters = gan_iters  # GAN pre-training iterations (phase 1)
model.generator.base_channels = 16  # G and D at half the default width
model.discriminator.base_channels = 16
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters + finetune_iters, val_interval=gan_iters)
default_hooks = dict(checkpoint=dict(interval=gan_iters))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
