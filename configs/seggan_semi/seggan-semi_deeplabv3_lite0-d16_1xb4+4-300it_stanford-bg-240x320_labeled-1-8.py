# Semi-supervised setting, arm (c): semi-supervised SegGAN. Each batch holds
# 4 labeled and 4 unlabeled images (MultiSourceSampler over a ConcatDataset);
# cross-entropy on the labeled ones, the content and adversarial terms of the
# frozen phase-1 G and D on all 8 (they compare G's painting with the image:
# no label needed). The unlabeled images come from UnlabeledImageDataset,
# which never lists a mask. Same start and schedule as arms (a) and (b).
# A quarter of the labels: --cfg-options
#   train_dataloader.dataset.datasets.0.ann_file=splits/semi/labeled_1-4.txt
#   train_dataloader.dataset.datasets.1.ann_file=splits/semi/unlabeled_1-4.txt
_base_ = [
    './seggan-finetune_deeplabv3_lite0-d16_1xb4-300it_stanford-bg-240x320_labeled-1-8.py'
]  # noqa: E501
unlabeled_split = 'splits/semi/unlabeled_1-8.txt'
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),  # no mask: nothing to load
    dict(type='CheckSegSample'),  # the image file is complete
    dict(
        type='RandomResize',
        scale=(320, 240),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(240, 320), cat_max_ratio=1.0),
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
                      data_root='data/stanford_bg',
                      ann_file=unlabeled_split,
                      data_prefix=dict(img_path='images'),
                      img_suffix='.jpg',
                      metainfo_from='StanfordBackgroundDataset',
                      pipeline=unlabeled_pipeline)]))
