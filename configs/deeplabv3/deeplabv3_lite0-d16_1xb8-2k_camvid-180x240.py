# Baseline DeepLabV3 on an ImageNet-pre-trained EfficientNet-Lite0 (output
# stride 16) on CamVid at half size (480x360 -> 240x180: a training step
# there costs about half of Stanford Background's 320x240 on the CPU, and
# poles and signs keep a few pixels of width, which they lose at 160x120).
# Training: random rescale 0.5-2.0, 180x240 crops, flip, batch 8, SGD 0.01
# poly, 2000 iterations (44 epochs of the 367 training images), validated
# every 250 iterations on val (101 images). Stem and first two stages
# frozen, as on Stanford Background.
_base_ = [
    '../_base_/models/deeplabv3_lite0-d16.py',
    '../_base_/datasets/camvid.py', '../_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
crop_size = (180, 240)  # (h, w)
scale = (240, 180)  # (w, h)
num_classes = 11
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(
        type='RandomResize',
        scale=scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    # checked_local: an empty file is named (MMSegInferencer's loader).
    dict(type='LoadImageFromFile', backend_args=dict(backend='checked_local')),
    dict(type='ConvertImageToBGR'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    # Masks are loaded after Resize: metrics use the original resolution.
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(frozen_stages=2),
    decode_head=dict(num_classes=num_classes))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
max_iters = 2000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=250)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=250,
        max_keep_ckpts=1,
        save_last=True))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
