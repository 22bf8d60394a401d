# SegGAN on PASCAL VOC 2012 + SBD aug as in the paper: batch 8 (4 GPUs x 2),
# 512x512, iterations [0, 20000) pre-train G and D on ground-truth masks,
# [20000, 40000) fine-tune the segmentor through the frozen GAN (Adam 1e-4).
# The segmentor starts from mmseg's zoo DeepLabV3-R50-D8 VOC12aug 20k
# checkpoint (mIoU 76.17). load_from is a URL: it needs internet. Offline,
# download it once and pass --cfg-options load_from=/path/to/that.pth.
_base_ = [
    '../deeplabv3/deeplabv3_r50-d8_4xb2-20k_voc12aug-512x512.py',
    '../_base_/seggan_defaults.py'
]
gan_iters = 20000
finetune_iters = 20000
# load_from replaces every segmentor weight: no ImageNet backbone download.
model = dict(_base_.seggan_model, pretrained=None, gan_iters=gan_iters)
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
param_scheduler = []  # constant learning rates, as in the paper
train_cfg = dict(max_iters=gan_iters + finetune_iters, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
load_from = ('https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/'
             'deeplabv3_r50-d8_512x512_20k_voc12aug/'
             'deeplabv3_r50-d8_512x512_20k_voc12aug_20200617_010906-596905ef'
             '.pth')
