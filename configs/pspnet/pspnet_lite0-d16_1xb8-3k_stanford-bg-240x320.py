# PSPNet on the ImageNet-pre-trained EfficientNet-Lite0 (output stride 16)
# on Stanford Background: the DeepLabV3 baseline next to it with mmseg's
# PSPHead (pyramid pooling 1/2/3/6, as in mmseg's pspnet_r50-d8) in place of
# ASPP, 128 channels for a CPU. Same data, schedule (SGD 0.01 poly, 3000
# iterations, batch 8) and frozen stem. The second decode head of the
# SegGAN-vs-control comparison (tools/experiments/compare.py).
_base_ = ['../deeplabv3/deeplabv3_lite0-d16_1xb8-3k_stanford-bg-240x320.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=320,
        in_index=3,
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=8,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
