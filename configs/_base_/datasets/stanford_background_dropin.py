# Stanford Background as named variables (stanford_bg_*), for a config of
# one's own whose bases already define a dataset: mmengine refuses a key
# defined in two bases, but these names clash with none. A drop-in writes:
#   _base_ = ['./my_segmentor_config.py',
#             'mmseg_seggan::_base_/datasets/stanford_background_dropin.py',
#             'mmseg_seggan::_base_/seggan_drop_in.py']
#   train_dataloader = dict(_base_.stanford_bg_train_dataloader, _delete_=True)
#   val_dataloader = dict(_base_.stanford_bg_val_dataloader, _delete_=True)
#   test_dataloader = val_dataloader
#   test_pipeline = _base_.stanford_bg_test_pipeline  # for inference_model
# plus num_classes=8 in its heads and data_preprocessor.size=(176, 240).
# ./stanford_background.py gives the same under mmseg's usual names.
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
stanford_bg_dataset_type = 'StanfordBackgroundDataset'
stanford_bg_data_root = 'data/stanford_bg'
stanford_bg_crop_size = (176, 240)  # (h, w)
stanford_bg_scale = (240, 180)  # (w, h): 320x240 -> 240x180
# mmseg's loaders by name (mmseg's inference APIs find them by name), each
# mask checked right after it is loaded (CheckSegSample: files and labels
# named on error).
stanford_bg_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='Resize', scale=stanford_bg_scale, keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=stanford_bg_crop_size,
        cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
stanford_bg_test_pipeline = [
    # checked_local: an empty file is named (MMSegInferencer's loader).
    dict(type='LoadImageFromFile', backend_args=dict(backend='checked_local')),
    dict(type='ConvertImageToBGR'),
    dict(type='Resize', scale=stanford_bg_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
stanford_bg_tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=stanford_bg_scale, keep_ratio=True),
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')],
            [dict(type='CheckSegSample')], [dict(type='PackSegInputs')]
        ])
]
stanford_bg_train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=stanford_bg_dataset_type,
        data_root=stanford_bg_data_root,
        ann_file='splits/train.txt',
        pipeline=stanford_bg_train_pipeline))
# The paper has no validation split: validation and test both use the 115
# test images (as the paper reports them).
stanford_bg_val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=stanford_bg_dataset_type,
        data_root=stanford_bg_data_root,
        ann_file='splits/test.txt',
        pipeline=stanford_bg_test_pipeline))
stanford_bg_test_dataloader = stanford_bg_val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's,
# found by name by MMSegInferencer, reading through checked_local).
stanford_bg_test_pipeline = [
    dict(type='LoadImageForInference', _scope_='mmseg_seggan')
] + stanford_bg_test_pipeline[1:]
stanford_bg_val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
stanford_bg_test_evaluator = stanford_bg_val_evaluator
