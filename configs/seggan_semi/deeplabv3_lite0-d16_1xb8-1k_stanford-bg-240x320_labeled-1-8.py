# Semi-supervised setting, stage 1: the baseline DeepLabV3-Lite0 (ImageNet)
# trained on the labeled eighth of Stanford Background's 600 training images
# only (75, seeded; written by tools/dataset_converters/make_semi_splits.py
# into data/stanford_bg/splits/semi/), 1000 iterations, otherwise as the
# fully labeled baseline. The other 525 images are never loaded with masks.
# A quarter of the labels (150 images): --cfg-options
#   train_dataloader.dataset.ann_file=splits/semi/labeled_1-4.txt
_base_ = ['../deeplabv3/deeplabv3_lite0-d16_1xb8-3k_stanford-bg-240x320.py']
labeled_split = 'splits/semi/labeled_1-8.txt'
train_dataloader = dict(dataset=dict(ann_file=labeled_split))
max_iters = 1000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=250)
# Before the first iteration of this and every semi-supervised config built
# on it: no image both labeled and unlabeled, none of val/test in training,
# no mask folder as unlabeled images, sampler and loader batch sizes equal.
default_hooks = dict(semi_data_check=dict(type='SemiSupervisedDataCheckHook'))
