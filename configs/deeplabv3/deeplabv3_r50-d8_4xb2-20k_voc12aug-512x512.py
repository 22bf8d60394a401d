# DeepLabV3-R50-D8 on PASCAL VOC 2012 + SBD aug, 512x512, 20k iterations at
# the paper's batch size 8 (4 GPUs x 2; on one GPU set
# train_dataloader.batch_size=8): mmseg's zoo config (batch 16, mIoU 76.17)
# read through the package's checked dataset. Layout and the SBD
# conversion: docs/datasets.md.
# Needs internet for the ImageNet backbone (open-mmlab://resnet50_v1c);
# offline, set model.pretrained to a local file (or None).
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
# the package's runner (configs/_base_/default_runtime.py says what it does)
runner_type = 'SegGANRunner'
dataset_type = 'CheckedPascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
# mmseg's loaders by name (mmseg's inference APIs find them by name), each
# mask checked right after it is loaded (CheckSegSample: files and labels
# named on error).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    # checked_local: an empty file is named (MMSegInferencer's loader).
    dict(type='LoadImageFromFile', backend_args=dict(backend='checked_local')),
    dict(type='ConvertImageToBGR'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')],
            [dict(type='CheckSegSample')], [dict(type='PackSegInputs')]
        ])
]
dataset_train = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/train.txt',
    pipeline=train_pipeline)
dataset_aug = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(
        img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
    ann_file='ImageSets/Segmentation/aug.txt',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type='ConcatDataset', datasets=[dataset_train, dataset_aug]))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's inference_model reads the top-level test_pipeline alone: its
# loader names an empty or undecodable file (the dataloaders keep mmcv's).
test_pipeline = [dict(type='LoadImageForInference', _scope_='mmseg_seggan')] + test_pipeline[1:]
default_hooks = dict(num_classes_check=dict(type='NumClassesCheckHook'))
