"""Split files as tools/dataset_converters/make_semi_splits.py writes them
(``#`` header lines) load in the datasets that read such files."""
import os.path as osp

import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from seggan_testing import import_tool

tool = import_tool('tools/dataset_converters/make_semi_splits.py')


@pytest.mark.parametrize('dataset',
                         ['ToyScenesDataset', 'UnlabeledImageDataset'])
def test_the_splits_tool_output_loads(toy_root, tmp_path, dataset):
    # Bug: ToyScenesDataset (mmseg's listing) read the header line
    # '# labeled images of ...' as a sample id and crashed at the first
    # iteration: FileNotFoundError: .../# labeled images of ....png
    out = str(tmp_path / 'semi')
    tool.main([
        '--img-dir',
        osp.join(toy_root, 'img_dir', 'train'), '--out-dir', out,
        '--fractions', '4'
    ])
    split = osp.join(out, 'labeled_1-4.txt')
    assert open(split).readline().startswith('# labeled images')
    init_default_scope('mmseg')
    cfg = dict(
        type=dataset,
        data_root=toy_root,
        ann_file=split,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='CheckSegSample')
        ])
    if dataset == 'UnlabeledImageDataset':
        cfg.update(
            data_prefix=dict(img_path='img_dir/train'),
            pipeline=cfg['pipeline'][::2],
            metainfo_from='ToyScenesDataset')
    ds = DATASETS.build(cfg)
    ids = [line.strip() for line in open(split) if line[0] != '#']
    assert len(ds) == len(ids) == 4
    for i in range(len(ds)):
        assert osp.basename(ds[i]['img_path']) == ids[i] + '.png'
