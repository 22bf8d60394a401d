crop_size = (
    96,
    128,
)
custom_hooks = [
    dict(type='SegGANPhaseHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mmseg_seggan',
    ])
data_preprocessor = dict(
    _scope_='mmseg',
    bgr_to_rgb=True,
    mean=[
        123.675,
        116.28,
        103.53,
    ],
    pad_val=0,
    seg_pad_val=255,
    size=(
        96,
        128,
    ),
    std=[
        58.395,
        57.12,
        57.375,
    ],
    type='SegDataPreProcessor')
data_root = 'data/toy_scenes'
dataset_type = 'ToyScenesDataset'
default_hooks = dict(
    checkpoint=dict(
        _scope_='mmseg',
        by_epoch=False,
        interval=200,
        max_keep_ckpts=2,
        save_last=True,
        type='CheckpointHook'),
    logger=dict(
        _scope_='mmseg',
        interval=20,
        log_metric_by_epoch=False,
        type='LoggerHook'),
    param_scheduler=dict(_scope_='mmseg', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmseg', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmseg', type='IterTimerHook'),
    visualization=dict(
        _scope_='mmseg',
        draw=False,
        interval=50,
        type='SegGANReconstructionVisHook'))
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
finetune_iters = 300
gan_iters = 300
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=False, type='SegGANLogProcessor')
model = dict(
    _scope_='mmseg',
    adv_weight=0.1,
    auxiliary_head=dict(
        align_corners=False,
        channels=64,
        concat_input=False,
        dropout_ratio=0.1,
        in_channels=256,
        in_index=2,
        loss_decode=dict(
            loss_weight=0.4, type='CrossEntropyLoss', use_sigmoid=False),
        norm_cfg=dict(requires_grad=True, type='SyncBN'),
        num_classes=6,
        num_convs=1,
        type='FCNHead'),
    backbone=dict(
        contract_dilation=True,
        depth=18,
        dilations=(
            1,
            1,
            1,
            2,
        ),
        norm_cfg=dict(requires_grad=True, type='SyncBN'),
        norm_eval=False,
        num_stages=4,
        out_indices=(
            0,
            1,
            2,
            3,
        ),
        strides=(
            1,
            2,
            2,
            1,
        ),
        style='pytorch',
        type='ResNetV1c'),
    content_weight=0.1,
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        pad_val=0,
        seg_pad_val=255,
        size=(
            96,
            128,
        ),
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='SegDataPreProcessor'),
    decode_head=dict(
        align_corners=False,
        channels=64,
        dilations=(
            1,
            6,
            12,
            18,
        ),
        dropout_ratio=0.1,
        in_channels=512,
        in_index=3,
        loss_decode=dict(
            loss_weight=1.0, type='CrossEntropyLoss', use_sigmoid=False),
        norm_cfg=dict(requires_grad=True, type='SyncBN'),
        num_classes=6,
        type='ASPPHead'),
    discriminator=dict(
        base_channels=32,
        conditional=False,
        norm_cfg=dict(type='BN'),
        type='SegGANDiscriminator'),
    gan_adv_weight=1.0,
    gan_content_weight=100.0,
    gan_iters=300,
    generator=dict(
        base_channels=32,
        dropout=0.5,
        norm_cfg=dict(type='BN'),
        type='SegGANGenerator'),
    pretrained=None,
    test_cfg=dict(mode='whole'),
    train_cfg=dict(),
    type='SegGAN')
model_wrapper_cfg = dict(
    broadcast_buffers=False,
    find_unused_parameters=False,
    type='MMSeparateDistributedDataParallel')
norm_cfg = dict(_scope_='mmseg', requires_grad=True, type='SyncBN')
optim_wrapper = dict(
    constructor='SegGANOptimWrapperConstructor',
    discriminator=dict(
        optimizer=dict(betas=(
            0.9,
            0.999,
        ), eps=1e-08, lr=0.001, type='Adam'),
        type='OptimWrapper'),
    generator=dict(
        optimizer=dict(betas=(
            0.9,
            0.999,
        ), eps=1e-08, lr=0.001, type='Adam'),
        type='OptimWrapper'),
    segmentor=dict(
        optimizer=dict(
            betas=(
                0.9,
                0.999,
            ), eps=1e-08, lr=0.0001, type='Adam'),
        type='OptimWrapper'))
optimizer = dict(
    _scope_='mmseg', lr=0.01, momentum=0.9, type='SGD', weight_decay=0.0005)
param_scheduler = []
randomness = dict(seed=0)
resume = False
runner_type = 'SegGANRunner'
seggan_gan_optimizer = dict(
    betas=(
        0.9,
        0.999,
    ), eps=1e-08, lr=0.001, type='Adam')
seggan_log_processor = dict(by_epoch=False, type='SegGANLogProcessor')
seggan_model = dict(
    adv_weight=0.1,
    content_weight=0.1,
    discriminator=dict(
        base_channels=32,
        conditional=False,
        norm_cfg=dict(type='BN'),
        type='SegGANDiscriminator'),
    gan_adv_weight=1.0,
    gan_content_weight=100.0,
    generator=dict(
        base_channels=32,
        dropout=0.5,
        norm_cfg=dict(type='BN'),
        type='SegGANGenerator'),
    type='SegGAN')
seggan_model_wrapper_cfg = dict(
    broadcast_buffers=False,
    find_unused_parameters=False,
    type='MMSeparateDistributedDataParallel')
seggan_optim_wrapper = dict(
    constructor='SegGANOptimWrapperConstructor',
    discriminator=dict(
        optimizer=dict(betas=(
            0.9,
            0.999,
        ), eps=1e-08, lr=0.001, type='Adam'),
        type='OptimWrapper'),
    generator=dict(
        optimizer=dict(betas=(
            0.9,
            0.999,
        ), eps=1e-08, lr=0.001, type='Adam'),
        type='OptimWrapper'),
    segmentor=dict(
        optimizer=dict(
            betas=(
                0.9,
                0.999,
            ), eps=1e-08, lr=0.0001, type='Adam'),
        type='OptimWrapper'))
test_cfg = dict(_scope_='mmseg', type='TestLoop')
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        data_root='data/toy_scenes',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='ConvertImageToBGR'),
            dict(type='LoadAnnotations'),
            dict(type='CheckSegSample'),
            dict(type='PackSegInputs'),
        ],
        type='ToyScenesDataset'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    iou_metrics=[
        'mIoU',
    ], type='IoUMetric')
test_pipeline = [
    dict(type='LoadImageForInference'),
    dict(type='ConvertImageToBGR'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(type='PackSegInputs'),
]
train_cfg = dict(
    _scope_='mmseg',
    max_iters=600,
    type='IterBasedTrainLoop',
    val_interval=150)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        data_root='data/toy_scenes',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='CheckSegSample'),
            dict(prob=0.5, type='RandomFlip'),
            dict(type='PackSegInputs'),
        ],
        type='ToyScenesDataset'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegSample'),
    dict(prob=0.5, type='RandomFlip'),
    dict(type='PackSegInputs'),
]
tta_model = dict(_scope_='mmseg', type='SegTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        transforms=[
            [
                dict(direction='horizontal', prob=0.0, type='RandomFlip'),
                dict(direction='horizontal', prob=1.0, type='RandomFlip'),
            ],
            [
                dict(type='LoadAnnotations'),
            ],
            [
                dict(type='CheckSegSample'),
            ],
            [
                dict(type='PackSegInputs'),
            ],
        ],
        type='TestTimeAug'),
]
val_cfg = dict(_scope_='mmseg', type='ValLoop')
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        data_root='data/toy_scenes',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='ConvertImageToBGR'),
            dict(type='LoadAnnotations'),
            dict(type='CheckSegSample'),
            dict(type='PackSegInputs'),
        ],
        type='ToyScenesDataset'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(shuffle=False, type='DefaultSampler'))
val_evaluator = dict(
    iou_metrics=[
        'mIoU',
    ], type='IoUMetric')
vis_backends = [
    dict(_scope_='mmseg', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmseg',
    name='visualizer',
    type='SegLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
