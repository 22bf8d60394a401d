# Semi-supervised setting, arm (b): SegGAN fine-tuning with the GAN terms on
# the labeled images only (the paper's SegGAN with fewer labels): 4 labeled
# images per batch, 300 iterations, Adam 1e-4, l = l_S + 0.1 l_C + 0.1 l_A.
#   --cfg-options load_from=<labeled gan-pretrain>/iter_1000.pth
#                 randomness.seed=S
_base_ = [
    './seggan-gan-pretrain_deeplabv3_lite0-d16_1xb8-1000it_camvid-180x240_labeled-1-8.py'
]  # noqa: E501
finetune_iters = 300
model = dict(gan_iters=0)  # phase 2 only
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=finetune_iters, val_interval=finetune_iters + 1)
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=1))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
