# Phase 2 through the frozen U-Net G and D of the config beside it,
# CamVid; load its checkpoint as with the plain G:
#   --cfg-options load_from=<gan-pretrain-unet>/iter_2000.pth randomness.seed=S
_base_ = ['./seggan-finetune_deeplabv3_lite0-d16_1xb8-300it_camvid-180x240.py']  # noqa: E501
model = dict(generator=dict(type='SegGANUNetGenerator'))
