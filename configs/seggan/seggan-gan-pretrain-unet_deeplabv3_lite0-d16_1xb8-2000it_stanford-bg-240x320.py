# Phase 1 with the generator the paper cites (pix2pix's U-Net reading of G:
# skips between mirrored encoder and decoder layers, still mask-only input),
# Stanford Background; everything else as the plain-G config it inherits.
_base_ = ['./seggan-gan-pretrain_deeplabv3_lite0-d16_1xb8-2000it_stanford-bg-240x320.py']  # noqa: E501
model = dict(generator=dict(type='SegGANUNetGenerator'))
