# Protocol stage 3 on CamVid: phase 2 only, SegGAN fine-tuning of the
# baseline segmentor through the frozen phase-1 G and D, 150 iterations,
# Adam 1e-4 constant: l = l_S + 0.1 l_C + 0.1 l_A.
# --cfg-options load_from=<gan-pretrain>.pth randomness.seed=S
_base_ = ['./seggan-gan-pretrain_deeplabv3_r18-d16_1xb4-300it_camvid-120x160.py']  # noqa: E501
finetune_iters = 150
model = dict(gan_iters=0)  # phase 2 only
train_cfg = dict(max_iters=finetune_iters, val_interval=finetune_iters + 1)
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
