# A light DeepLabV3 (ResNetV1c-18, output stride 16, 64-channel ASPP) for
# CPU experiments. No zoo weights: it trains from scratch, nothing downloads.
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(
        depth=18, dilations=(1, 1, 1, 2), strides=(1, 2, 2, 1),
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, channels=64, dilations=(1, 6, 12, 18),
        norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, norm_cfg=norm_cfg))
