# Stanford Background (Gould et al. 2009), 8 classes, unknown (-1) -> 255.
# Converted once (fast PNG masks + the paper's seeded 600/115 split):
#   python tools/dataset_converters/stanford_background.py \
#       RAW_DIR data/stanford_bg
# The raw download (labels/*.regions.txt[.gz]) also loads, slower: point
# data_root at it, set ann_file='' plus split='train'/'test' (the same
# seeded split, computed in memory) and load the labels with
# LoadStanfordBackgroundAnnotations, see docs/datasets.md.
# CPU scale, as CamVid: 320x240 images -> 240x180, training crops 176x240
# (smaller and portrait crops are padded to 176x240 by the model's
# data_preprocessor, size=crop_size).
dataset_type = 'StanfordBackgroundDataset'
data_root = 'data/stanford_bg'
crop_size = (176, 240)  # (h, w)
scale = (240, 180)  # (w, h): 320x240 -> 240x180
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
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=scale, keep_ratio=True),
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')],
            [dict(type='CheckSegSample')], [dict(type='PackSegInputs')]
        ])
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
# The paper has no validation split: validation and test both use the 115
# test images (as the paper reports them).
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/test.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's,
# found by name by MMSegInferencer, reading through checked_local).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
