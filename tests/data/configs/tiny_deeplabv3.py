# A tiny DeepLabV3 on ToyScenes for tests (32x48 inputs, 8-channel ResNet).
# Tests set the data root with --cfg-options / Config.merge_from_dict.
_base_ = [
    '../../../configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(32, 48)),
    backbone=dict(stem_channels=8, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=64, channels=8, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=32, channels=8, norm_cfg=norm_cfg))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
param_scheduler = []
train_cfg = dict(max_iters=4, val_interval=4)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=-1, save_last=True),
    visualization=dict(type='SegVisualizationHook', draw=False))
