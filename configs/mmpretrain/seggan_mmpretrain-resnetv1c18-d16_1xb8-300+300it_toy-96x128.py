# SegGAN whose backbone comes from mmpretrain through mmseg's cross-scope
# build ('mmpretrain.ResNetV1c'). Needs the optional extra:
#   pip install -e '.[mmpretrain]'   (mmpretrain needs an importable
#   torchvision; see README "Optional: mmpretrain backbones").
_base_ = ['../seggan/seggan_deeplabv3_r18-d16_1xb8-300+300it_toy-96x128.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 2),
        strides=(1, 2, 2, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch'))
