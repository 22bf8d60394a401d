# Semi-supervised SegGAN phase 2 on ToyScenes for tests: each batch of 4 holds
# 2 labeled samples (ToyScenes, split labeled.txt) and 2 unlabeled ones
# (UnlabeledImageDataset, split unlabeled.txt; no mask is ever listed). The
# tests write both split files into the data root.
_base_ = ['./tiny_seggan.py']
model = dict(gan_iters=0)  # phase 2 only
# phase 2 from a random G and D: a test of the data path, not of the GAN
custom_hooks = [dict(type='SegGANPhaseHook', allow_untrained_gan=True)]
default_hooks = dict(semi_data_check=dict(type='SemiSupervisedDataCheckHook'))
train_dataloader = dict(
    batch_size=4,
    sampler=dict(
        _delete_=True,
        type='MultiSourceSampler',
        batch_size=4,
        source_ratio=[1, 1]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='ToyScenesDataset',
                data_root='data/toy_scenes',
                ann_file='labeled.txt',
                data_prefix=dict(
                    img_path='img_dir/train', seg_map_path='ann_dir/train'),
                pipeline={{_base_.train_pipeline}}),
            dict(
                type='UnlabeledImageDataset',
                data_root='data/toy_scenes',
                ann_file='unlabeled.txt',
                data_prefix=dict(img_path='img_dir/train'),
                metainfo_from='ToyScenesDataset',
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='CheckSegSample'),
                    dict(type='RandomFlip', prob=0.5),
                    dict(type='PackSegInputs')
                ])
        ]))
