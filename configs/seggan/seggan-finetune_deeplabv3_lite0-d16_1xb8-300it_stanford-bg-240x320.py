# Two-run SegGAN on Stanford Background (native 320x240), run 2: phase 2 only. The baseline segmentor is
# fine-tuned through the frozen phase-1 G and D for 300 iterations, Adam 1e-4
# constant, batch 8: l = l_S + 0.1 l_C + 0.1 l_A (the paper's weights).
#   --cfg-options load_from=<gan-pretrain>/iter_2000.pth randomness.seed=S
_base_ = ['./seggan-gan-pretrain_deeplabv3_lite0-d16_1xb8-2000it_stanford-bg-240x320.py']  # noqa: E501
finetune_iters = 300
model = dict(gan_iters=0)  # phase 2 only
train_cfg = dict(max_iters=finetune_iters, val_interval=finetune_iters + 1)
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=1))
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
