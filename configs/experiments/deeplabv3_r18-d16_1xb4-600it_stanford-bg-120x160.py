# CPU reproduction protocol (tools/experiments/run_protocol.py), stage 1:
# the baseline DeepLabV3 (ResNetV1c-18, output stride 16, from scratch) on
# Stanford Background at quarter scale (320x240 -> 160x120; smaller and
# portrait images are padded), batch 4, Adam 1e-3 poly, 600 iterations.
# Only the size and schedule differ from the 176x240 config.
_base_ = ['../deeplabv3/deeplabv3_r18-d16_1xb4-2k_stanford-bg-176x240.py']
crop_size = (120, 160)  # (h, w)
scale = (160, 120)  # (w, h)
# mmseg's loaders by name (mmseg's inference APIs find them by name), each
# mask checked right after it is loaded (CheckSegSample: files and labels
# named on error).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    # checked_local: an empty file is named (MMSegInferencer's loader).
    dict(type='LoadImageFromFile', backend_args=dict(backend='checked_local')),
    dict(type='ConvertImageToBGR'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),  # metrics at the labels' full size
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
max_iters = 600
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
# No validation while training: the protocol tests each final checkpoint.
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=200, max_keep_ckpts=1, save_last=True))
