# The demo's phase 1 alone: pre-train G and D on ground-truth masks. Phase 1
# never runs the segmentor, so the demo runs this beside the baseline (no
# load_from) and gives phase 2 the baseline's segmentor with load_from and
# these G and D with init_cfg (see tools/misc/seggan_demo.py).
_base_ = ['./seggan_deeplabv3_r18w16-d8_1xb8-150+100it_toy-96x128.py']
gan_iters = 150
train_cfg = dict(max_iters=gan_iters, val_interval=gan_iters + 1)
model = dict(gan_iters=gan_iters)
custom_hooks = [dict(type='SegGANPhaseHook', gan_pretrain_only=True)]
val_cfg = None
val_dataloader = None
val_evaluator = None
