# Semi-supervised setting, arm (c): semi-supervised SegGAN. Each batch holds
# 4 labeled and 4 unlabeled images (MultiSourceSampler over a ConcatDataset);
# cross-entropy on the labeled ones, the content and adversarial terms of the
# frozen phase-1 G and D on all 8 (they compare G's painting with the image:
# no label needed). The unlabeled images come from UnlabeledImageDataset,
# which never lists a mask. Same start and schedule as arms (a) and (b).
# A quarter of the labels: --cfg-options
#   train_dataloader.dataset.datasets.0.ann_file=semi_splits/camvid/labeled_1-4.txt
#   train_dataloader.dataset.datasets.1.ann_file=semi_splits/camvid/unlabeled_1-4.txt
_base_ = [
    './seggan-finetune_deeplabv3_lite0-d16_1xb4-300it_camvid-180x240_labeled-1-8.py'
]  # noqa: E501
unlabeled_split = 'semi_splits/camvid/unlabeled_1-8.txt'
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),  # no mask: nothing to load
    dict(type='CheckSegSample'),  # the image file is complete
    dict(
        type='RandomResize',
        scale=(240, 180),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(180, 240), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    sampler=dict(
        _delete_=True,
        type='MultiSourceSampler',
        batch_size=8,
        source_ratio=[1, 1]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[{{_base_.train_dataloader.dataset}},
                  dict(
                      type='UnlabeledImageDataset',
                      data_root='data',
                      ann_file=unlabeled_split,
                      data_prefix=dict(img_path='camvid/train'),
                      img_suffix='.png',
                      metainfo_from='CamVidDataset',
                      pipeline=unlabeled_pipeline)]))
