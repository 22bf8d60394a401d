# The tiny SegGAN of the reliability tests (kill/resume, bad checkpoints):
# both phases, 32x48 inputs, 8-channel ResNet, 4-channel G and D, a
# checkpoint every 2 iterations and a scheduler whose state must survive a
# resume. Self-contained on purpose (only the package's own configs as
# bases), so other test configs can change freely. Tests set the data roots.
_base_ = [
    '../../../configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py',
    '../../../configs/_base_/seggan_defaults.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
gan_iters = 4
model = dict(
    gan_iters=gan_iters,
    type='SegGAN',
    generator=dict(
        type='SegGANGenerator',
        base_channels=4,
        dropout=0.5,
        norm_cfg=dict(type='BN')),
    discriminator=dict(
        type='SegGANDiscriminator',
        base_channels=4,
        conditional=False,
        norm_cfg=dict(type='BN')),
    gan_content_weight=100.0,
    gan_adv_weight=1.0,
    content_weight=0.1,
    adv_weight=0.1,
    data_preprocessor=dict(size=(32, 48)),
    backbone=dict(stem_channels=8, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=64, channels=8, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=32, channels=8, norm_cfg=norm_cfg))
optim_wrapper = {{_base_.seggan_optim_wrapper}}
log_processor = {{_base_.seggan_log_processor}}
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
# One linear warm-up for every optimizer: its state must survive a resume.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=8)
]
train_cfg = dict(max_iters=8, val_interval=1000)
custom_hooks = [dict(type='SegGANPhaseHook')]  # reads model.gan_iters
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=-1, save_last=True),
    visualization=dict(type='SegVisualizationHook', draw=False))
