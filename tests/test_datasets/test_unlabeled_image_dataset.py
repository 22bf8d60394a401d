"""UnlabeledImageDataset: images of a split, and never a mask."""
import os
import os.path as osp
import shutil

import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_seggan.datasets import SplitFileError, UnpairedSamplesError


@pytest.fixture
def toy_copy(toy_root, tmp_path):
    root = str(tmp_path / 'toy')
    shutil.copytree(toy_root, root)
    return root


def _build(root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(
        type='UnlabeledImageDataset',
        data_root=root,
        data_prefix=dict(img_path='img_dir/train'),
        metainfo_from='ToyScenesDataset',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackSegInputs')])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_samples_have_images_and_no_mask_even_when_masks_are_gone(toy_copy):
    names = sorted(os.listdir(osp.join(toy_copy, 'img_dir', 'train')))
    with open(osp.join(toy_copy, 'unlabeled.txt'), 'w') as f:
        f.write('# seed=0\n' + ''.join(n[:-4] + '\n' for n in names[4:]))
    # the masks of the unlabeled images do not exist: nothing may read them
    for n in names[4:]:
        os.remove(osp.join(toy_copy, 'ann_dir', 'train', n))
    ds = _build(toy_copy, ann_file='unlabeled.txt')
    assert len(ds) == len(names) - 4
    assert all('seg_map_path' not in ds.get_data_info(i)
               for i in range(len(ds)))
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        assert 'gt_sem_seg' not in sample
        assert ds[i]['inputs'].shape[0] == 3
    from mmseg_seggan.datasets.toy_scenes import TOY_CLASSES
    assert ds.metainfo['classes'] == TOY_CLASSES


def test_a_mask_loader_or_mask_folder_is_refused(toy_copy):
    with pytest.raises(ValueError, match='seg_map_path'):
        _build(
            toy_copy,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'))
    with pytest.raises(ValueError, match='LoadAnnotations'):
        _build(
            toy_copy,
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')
            ])


def test_bad_splits_name_the_file(toy_copy):
    split = osp.join(toy_copy, 'bad.txt')
    with open(split, 'w') as f:
        f.write('train_0000\ntrain_0000\n')
    with pytest.raises(SplitFileError, match='bad.txt'):
        _build(toy_copy, ann_file='bad.txt')
    with open(split, 'w') as f:
        f.write('train_0000\nno_such_image\n')
    with pytest.raises(UnpairedSamplesError, match='no_such_image'):
        _build(toy_copy, ann_file='bad.txt')
