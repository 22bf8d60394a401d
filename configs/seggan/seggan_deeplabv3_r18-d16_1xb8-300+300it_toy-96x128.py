# SegGAN on ToyScenes, both phases in one run: iterations [0, 300) pre-train
# G and D on ground-truth masks, [300, 600) fine-tune the segmentor through
# the frozen GAN. Start from the baseline:
#   --cfg-options load_from=work_dirs/<baseline>/iter_600.pth
_base_ = [
    '../deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 300
finetune_iters = 300
model = dict(_base_.seggan_model, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters + finetune_iters, val_interval=150)
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
# tools/test.py --show-dir draws image | GT | pred | G(GT) | G(pred) | error.
default_hooks = dict(
    visualization=dict(
        type='SegGANReconstructionVisHook', draw=False, interval=50))
