# ToyScenes: the generated embedded default (tools/misc/make_toy_scenes.py).
dataset_type = 'ToyScenesDataset'
data_root = 'data/toy_scenes'
crop_size = (96, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    # checked_local: an empty file is named (MMSegInferencer's loader).
    dict(type='LoadImageFromFile', backend_args=dict(backend='checked_local')),
    dict(type='ConvertImageToBGR'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
# tools/test.py --tta: the image and its mirror (scenes are drawn at the
# size the model sees, so no rescaling).
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='horizontal')
        ], [dict(type='LoadAnnotations')], [dict(type='CheckSegSample')],
                    [dict(type='PackSegInputs')]])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's,
# found by name by MMSegInferencer, reading through checked_local).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
