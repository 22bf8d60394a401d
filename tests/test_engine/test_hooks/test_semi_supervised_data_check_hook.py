"""SemiSupervisedDataCheckHook: leaks and lopsided batches are refused
before the first iteration (issue 21's audit, on generated data)."""
import copy
import glob
import os
import os.path as osp
import shutil

import cv2

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from seggan_testing import REPO, import_tool
from torch.utils.data import DataLoader

from mmseg_seggan.datasets import MultiSourceSampler
from mmseg_seggan.engine.hooks import SemiSupervisedDataCheckHook


class _Runner:
    """What the hook reads of a runner: the training loader, the config."""

    def __init__(self, sources, val, batch_size=4, sampler_batch_size=4):
        init_default_scope('mmseg')
        dataset = DATASETS.build(
            dict(type='ConcatDataset', datasets=copy.deepcopy(sources)))
        sampler = MultiSourceSampler(
            dataset, sampler_batch_size, [1, 1], seed=0)
        self.train_dataloader = DataLoader(
            dataset, batch_size, sampler=sampler, collate_fn=list)
        self.cfg = Config(
            dict(
                val_dataloader=dict(dataset=val),
                test_dataloader=dict(dataset=val)))


def _toy(root, ann_file, img='img_dir/train', ann='ann_dir/train'):
    return dict(
        type='ToyScenesDataset',
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img_path=img, seg_map_path=ann),
        pipeline=[])


def _unlabeled(root,
               ann_file,
               img='img_dir/train',
               suffix='.png',
               like='ToyScenesDataset'):
    return dict(
        type='UnlabeledImageDataset',
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img_path=img),
        img_suffix=suffix,
        metainfo_from=like,
        pipeline=[])


@pytest.fixture
def toy(toy_root, tmp_path):
    """ToyScenes with labeled.txt (6) and unlabeled.txt (10), disjoint."""
    root = str(tmp_path / 'toy')
    os.symlink(toy_root, root)  # real paths: the hook resolves links
    names = sorted(f[:-4] for f in os.listdir(f'{root}/img_dir/train'))
    splits = str(tmp_path / 'splits')
    os.makedirs(splits)
    for name, ids in (('labeled', names[:6]), ('unlabeled', names[6:]),
                      ('overlap', names[4:])):
        with open(osp.join(splits, name + '.txt'), 'w') as f:
            f.write('# seed=0\n' + ''.join(i + '\n' for i in ids))
    return root, splits, names


def _check(sources, val, **kwargs):
    SemiSupervisedDataCheckHook().before_train(_Runner(sources, val, **kwargs))


def test_disjoint_training_sources_pass(toy):
    root, splits, _ = toy
    val = _toy(root, '', 'img_dir/val', 'ann_dir/val')
    _check([
        _toy(root, f'{splits}/labeled.txt'),
        _unlabeled(root, f'{splits}/unlabeled.txt')
    ], val)


def test_an_image_both_labeled_and_unlabeled_is_refused(toy):
    # Bug: trained on twice, once with its mask, without a word.
    root, splits, names = toy
    val = _toy(root, '', 'img_dir/val', 'ann_dir/val')
    with pytest.raises(ValueError) as e:
        _check([
            _toy(root, f'{splits}/labeled.txt'),
            _unlabeled(root, f'{splits}/overlap.txt')
        ], val)
    msg = str(e.value)
    assert ('2 image(s) are in both the labeled source train_dataloader.'
            'dataset.datasets.0 and the unlabeled source train_dataloader.'
            'dataset.datasets.1') in msg
    assert f'img_dir/train/{names[4]}.png' in msg and names[5] in msg
    assert 'make_semi_splits.py' in msg and 'complement' in msg


def test_the_val_images_as_unlabeled_set_are_refused(toy):
    # Bug: ann_file='' on img_dir/val trained on the evaluation images.
    root, splits, _ = toy
    val = _toy(root, '', 'img_dir/val', 'ann_dir/val')
    with pytest.raises(ValueError) as e:
        _check([
            _toy(root, f'{splits}/labeled.txt'),
            _unlabeled(root, '', 'img_dir/val')
        ], val)
    msg = str(e.value)
    assert ('4 training image(s) of train_dataloader.dataset.datasets.1 '
            'are val_dataloader.dataset images') in msg
    assert 'img_dir/val/val_0000.png' in msg and 'ann_file' in msg


def test_stanford_shared_image_folder_as_unlabeled_set_is_refused(tmp_path):
    # Bug: Stanford Background's images/ holds the test images too; an
    # unlabeled set on it with ann_file='' trained on them.
    testing = import_tool('tests/test_datasets/datasets_testing.py')
    testing.make_stanford_raw(str(tmp_path / 'raw'))
    root = str(tmp_path / 'stanford_bg')
    testing.convert_stanford_background(
        str(tmp_path / 'raw'), root, num_train=4)
    with open(osp.join(root, 'splits', 'test.txt')) as f:
        test_ids = [i.strip() for i in f if not i.startswith('#')]
    val = dict(
        type='StanfordBackgroundDataset',
        data_root=root,
        ann_file='splits/test.txt',
        pipeline=[])
    labeled = dict(val, ann_file='splits/train.txt')
    with pytest.raises(ValueError) as e:
        _check([
            labeled,
            _unlabeled(root, '', 'images', '.jpg', 'StanfordBackgroundDataset')
        ], val)
    msg = str(e.value)
    assert ('2 training image(s) of train_dataloader.dataset.datasets.1 are '
            'val_dataloader.dataset images') in msg
    assert all(f'images/{i}.jpg' in msg for i in test_ids)
    assert '4 image(s) are in both' in msg  # and the train images, twice


def _reencode(src, dst):
    """The picture of ``src`` through JPEG (quality 75), saved as PNG."""
    ok, data = cv2.imencode('.jpg', cv2.imread(src),
                            [cv2.IMWRITE_JPEG_QUALITY, 75])
    cv2.imwrite(dst, cv2.imdecode(data, cv2.IMREAD_COLOR))


PLANT = dict(
    hard_link=(os.link, 'a hard link'),
    copy=(shutil.copyfile, 'a copy of'),
    reencoded=(_reencode, 're-encoded: thumbnail RMS'))


@pytest.fixture
def unlabeled_folder(toy, tmp_path):
    """The unlabeled images (copies) in a folder of their own."""
    root, splits, names = toy
    folder = tmp_path / 'unl'
    folder.mkdir()
    for i in names[6:]:
        shutil.copyfile(f'{root}/img_dir/train/{i}.png', folder / f'{i}.png')
    return str(folder)


def test_a_folder_of_other_training_images_passes(toy, unlabeled_folder):
    root, splits, _ = toy
    _check([
        _toy(root, f'{splits}/labeled.txt'),
        _unlabeled(unlabeled_folder, '', '')
    ], _toy(root, '', 'img_dir/val', 'ann_dir/val'))


@pytest.mark.parametrize('how', sorted(PLANT))
def test_a_val_image_under_another_name_among_unlabeled_is_refused(
        toy, unlabeled_folder, how):
    # Bug: only real paths were compared; a hard link, a copy or a
    # re-encode of a val image trained on as unlabeled without a word.
    root, splits, _ = toy
    plant, said = PLANT[how]
    val_img = osp.realpath(f'{root}/img_dir/val/val_0001.png')
    plant(val_img, f'{unlabeled_folder}/zz_extra.png')
    with pytest.raises(ValueError) as e:
        _check([
            _toy(root, f'{splits}/labeled.txt'),
            _unlabeled(unlabeled_folder, '', '')
        ], _toy(root, '', 'img_dir/val', 'ann_dir/val'))
    msg = str(e.value)
    assert ('1 training image(s) of train_dataloader.dataset.datasets.1 '
            'are val_dataloader.dataset images') in msg
    assert 'zz_extra.png (' in msg
    assert val_img in msg and said in msg


@pytest.mark.parametrize('how', sorted(PLANT))
def test_a_labeled_image_under_another_name_among_unlabeled_is_refused(
        toy, unlabeled_folder, how):
    # Bug: a labeled image hard-linked, copied or re-encoded into the
    # unlabeled folder was trained on twice, once with its mask.
    root, splits, names = toy
    plant, said = PLANT[how]
    labeled_img = osp.realpath(f'{root}/img_dir/train/{names[2]}.png')
    plant(labeled_img, f'{unlabeled_folder}/zz_extra.png')
    with pytest.raises(ValueError) as e:
        _check([
            _toy(root, f'{splits}/labeled.txt'),
            _unlabeled(unlabeled_folder, '', '')
        ], _toy(root, '', 'img_dir/val', 'ann_dir/val'))
    msg = str(e.value)
    assert ('1 image(s) are in both the labeled source train_dataloader.'
            'dataset.datasets.0 and the unlabeled source') in msg
    assert labeled_img in msg and said in msg


def test_the_picture_comparison_can_be_switched_off(toy, unlabeled_folder):
    root, splits, names = toy
    _reencode(f'{root}/img_dir/train/{names[2]}.png',
              f'{unlabeled_folder}/zz_extra.png')
    runner = _Runner([
        _toy(root, f'{splits}/labeled.txt'),
        _unlabeled(unlabeled_folder, '', '')
    ], _toy(root, '', 'img_dir/val', 'ann_dir/val'))
    SemiSupervisedDataCheckHook(max_thumbnail_rms=None).before_train(runner)


def test_unlabeled_images_from_the_mask_folder_are_refused(toy):
    # Bug: img_path on ann_dir/train loaded the masks as unlabeled images.
    root, splits, _ = toy
    val = _toy(root, '', 'img_dir/val', 'ann_dir/val')
    with pytest.raises(ValueError) as e:
        _check([
            _toy(root, f'{splits}/labeled.txt'),
            _unlabeled(root, f'{splits}/unlabeled.txt', 'ann_dir/train')
        ], val)
    msg = str(e.value)
    assert (
        '10 unlabeled image(s) of train_dataloader.dataset.datasets.1 '
        'are in the mask folder of train_dataloader.dataset.datasets.0') in msg
    assert 'ann_dir/train/' in msg and 'image folder' in msg


def test_sampler_and_loader_batch_sizes_must_agree(toy):
    # Bug: sampler batch 8, loader batch 4: batches alternated 4 labeled /
    # 4 unlabeled, none mixed, without a word.
    root, splits, _ = toy
    val = _toy(root, '', 'img_dir/val', 'ann_dir/val')
    sources = [
        _toy(root, f'{splits}/labeled.txt'),
        _unlabeled(root, f'{splits}/unlabeled.txt')
    ]
    runner = _Runner(sources, val, batch_size=4, sampler_batch_size=8)
    batch = next(iter(runner.train_dataloader))
    assert all('seg_map_path' in s for s in batch)  # the silent failure
    with pytest.raises(ValueError) as e:
        SemiSupervisedDataCheckHook().before_train(runner)
    msg = str(e.value)
    assert 'train_dataloader.sampler.batch_size=8' in msg
    assert 'train_dataloader.batch_size=4' in msg and 'same value' in msg


def test_every_semi_supervised_config_names_the_check():
    paths = glob.glob(osp.join(REPO, 'configs', 'seggan_semi', '*.py'))
    assert len(paths) >= 8
    for path in paths:
        hooks = Config.fromfile(path).default_hooks
        assert hooks.semi_data_check.type == 'SemiSupervisedDataCheckHook', (
            path)
