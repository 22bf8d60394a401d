# Baseline DeepLabV3 (ResNet-18, output stride 16) on Stanford Background
# (converted, 600 train / 115 test) at CPU scale: 320x240 images -> 240x180,
# 176x240 crops, batch 4, Adam 1e-3 poly, 2000 iterations from scratch (no
# downloads; the paper started from ImageNet weights).
_base_ = [
    '../_base_/models/deeplabv3_r18-d16.py',
    '../_base_/datasets/stanford_background.py',
    '../_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
crop_size = (176, 240)
num_classes = 8
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8))
max_iters = 2000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=500,
        max_keep_ckpts=2,
        save_last=True),
    # Fails before the first iteration if a head's num_classes is not 8.
    num_classes_check=dict(type='NumClassesCheckHook'))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
