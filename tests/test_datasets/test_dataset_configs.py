"""The dataset configs: consistent class counts, schedules, and real loading
of generated data through their full pipelines."""
import copy
import glob
from functools import lru_cache

import pytest
from datasets_testing import (convert_stanford_background, make_camvid,
                              make_stanford_raw)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_seggan.datasets import CheckedDatasetMixin, CheckSegSample
from mmseg_seggan.utils import gan_iters_of

CAMVID = [
    'configs/deeplabv3/deeplabv3_r18-d16_1xb4-2k_camvid-176x240.py',
    'configs/seggan/seggan_deeplabv3_r18-d16_1xb4-800+800it_camvid-176x240.py',
    'configs/seggan/seggan-control_deeplabv3_r18-d16_1xb4-800+800it_'
    'camvid-176x240.py', 'configs/seggan_camvid.py'
]
STANFORD = [
    'configs/deeplabv3/deeplabv3_r18-d16_1xb4-2k_stanford-bg-176x240.py',
    'configs/seggan/seggan_deeplabv3_r18-d16_1xb4-800+800it_'
    'stanford-bg-176x240.py',
    'configs/seggan/seggan-control_deeplabv3_r18-d16_1xb4-800+800it_'
    'stanford-bg-176x240.py', 'configs/seggan_stanford_bg.py'
]
VOC = [
    'configs/deeplabv3/deeplabv3_r50-d8_4xb2-20k_voc12aug-512x512.py',
    'configs/seggan/seggan_deeplabv3_r50-d8_4xb2-20k+20k_voc12aug-512x512.py',
    'configs/seggan/seggan-control_deeplabv3_r50-d8_4xb2-20k+20k_'
    'voc12aug-512x512.py', 'configs/seggan_voc.py'
]


@lru_cache(maxsize=None)
def _cached(path):
    return Config.fromfile(path)  # 1-2 s each (mmseg:: bases): parse once


def _load(path):
    return copy.deepcopy(_cached(path))


def _datasets(cfg):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[name].dataset
        yield from ds.datasets if ds.type == 'ConcatDataset' else [ds]


@pytest.mark.parametrize('path', CAMVID + STANFORD + VOC)
def test_heads_match_dataset_classes_and_check_is_on(path):
    cfg = _load(path)
    for ds in _datasets(cfg):
        num = len(DATASETS.get(ds.type).METAINFO['classes'])
        assert cfg.model.decode_head.num_classes == num
        assert cfg.model.auxiliary_head.num_classes == num
        # mmseg's loader by name (mmseg's inference APIs look it up); the
        # checks: test_every_config_checks_each_sample_where_it_is_loaded.
        assert ds.pipeline[0].type == 'LoadImageFromFile'
        assert issubclass(DATASETS.get(ds.type), CheckedDatasetMixin)
    assert cfg.default_hooks.num_classes_check.type == 'NumClassesCheckHook'
    if cfg.model.type == 'SegGAN':
        assert [h.type for h in cfg.custom_hooks] == ['SegGANPhaseHook']
        assert gan_iters_of(cfg) == cfg.model.gan_iters == cfg.gan_iters
        assert cfg.train_cfg.max_iters == cfg.gan_iters + cfg.finetune_iters
        assert cfg.param_scheduler == []
        assert cfg.optim_wrapper.segmentor.optimizer.lr == 1e-4
        control = 'control' in path
        for loss, old in (('phase2_content_loss', 'content_weight'),
                          ('phase2_adv_loss', 'adv_weight')):
            weight = cfg.model[loss].loss_weight if loss in cfg.model \
                else cfg.model[old]  # the scalar keys before issue 31
            assert (weight == 0) == control, loss


@pytest.mark.parametrize('path', CAMVID + STANFORD)
def test_cpu_configs(path):
    cfg = _load(path)
    assert cfg.model.pretrained is None
    assert cfg.model.backbone.depth == 18
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.model.data_preprocessor.size == (176, 240)
    root = 'data/camvid' if 'camvid' in path else 'data/stanford_bg'
    assert all(ds.data_root == root for ds in _datasets(cfg))
    if cfg.model.type != 'SegGAN':
        assert cfg.optim_wrapper.optimizer == dict(
            type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        assert cfg.param_scheduler[0].type == 'PolyLR'


@pytest.mark.parametrize('path', VOC)
def test_voc_configs_follow_the_paper(path):
    cfg = _load(path)
    assert cfg.train_dataloader.batch_size == 2  # x 4 GPUs = 8
    assert cfg.data_root == 'data/VOCdevkit/VOC2012'
    assert [
        d.data_prefix.seg_map_path
        for d in cfg.train_dataloader.dataset.datasets
    ] == ['SegmentationClass', 'SegmentationClassAug']
    if cfg.model.type == 'SegGAN':
        assert (cfg.gan_iters, cfg.finetune_iters) == (20000, 20000)
        assert cfg.load_from.startswith('https://download.openmmlab.com/')
        assert 'voc12aug' in cfg.load_from
        assert cfg.model.pretrained is None
    else:
        assert cfg.train_cfg.max_iters == 20000


@pytest.mark.parametrize('name', ['camvid', 'stanford'])
def test_full_training_pipeline_on_generated_data(tmp_path, name):
    init_default_scope('mmseg')
    if name == 'camvid':
        root = str(tmp_path / 'camvid')
        make_camvid(root, shape=(60, 80))
        cfg = _load(CAMVID[-1])
    else:
        raw = str(tmp_path / 'raw')
        make_stanford_raw(raw)
        root = str(tmp_path / 'stanford_bg')
        convert_stanford_background(raw, root, num_train=4)
        cfg = _load(STANFORD[-1])
    for split in ('train', 'val'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset
        ds_cfg.data_root = root  # what --cfg-options ... data_root=DIR does
        ds_cfg.serialize_data = False
        ds = DATASETS.build(ds_cfg)
        assert CheckSegSample in [type(t) for t in ds.pipeline.transforms]
        sample = ds[0]
        gt = sample['data_samples'].gt_sem_seg.data
        if split == 'train':
            # Resized to 240 wide, cropped to at most 176x240 (the data
            # preprocessor pads the batch to the crop).
            h, w = sample['inputs'].shape[1:]
            assert h <= 176 and w <= 240 and gt.shape[1:] == (h, w)
        num = len(ds.metainfo['classes'])
        values = set(gt.unique().tolist())
        assert values <= set(range(num)) | {255}


def _pipelines(cfg):
    """``(where, pipeline)`` of every dataset of a config, and its TTA."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        stack = [cfg[name].dataset] if cfg.get(name) else []
        while stack:
            ds = stack.pop()
            stack += list(ds.get('datasets', []))
            if 'dataset' in ds:
                stack.append(ds.dataset)
            if 'pipeline' in ds:
                yield f'{name}.dataset ({ds.type})', ds.pipeline
    if cfg.get('tta_pipeline'):
        yield 'tta_pipeline', cfg.tta_pipeline


def _unchecked_loads(pipeline):
    """Mask loaders not followed at once by CheckSegSample."""
    bad = []
    for i, t in enumerate(pipeline):
        if t.type == 'TestTimeAug':
            stages = t.transforms + [[]]
            bad += [
                f'TestTimeAug stage {j}' for j, stage in enumerate(stages)
                if any('Annotations' in s.type for s in stage)
                and [s.type for s in stages[j + 1]] != ['CheckSegSample']
            ]
        elif 'Annotations' in t.type and (i + 1 == len(pipeline)
                                          or pipeline[i + 1].type
                                          != 'CheckSegSample'):
            bad.append(f'{t.type} at {i}')
    return bad


CONFIGS = sorted(
    glob.glob('configs/**/*.py', recursive=True),
    key=lambda p: ('/_base_/' not in p, p))


def test_every_config_checks_each_sample_where_it_is_loaded():
    # What runs is what the config says: no dataset swaps a checked loader
    # in behind the config's back, so every pipeline of every config names
    # CheckSegSample, right after the mask is loaded (before a resize or a
    # crop could hide a bad value or shape). Bug: a config writing its own
    # pipeline without it trains on unchecked masks.
    missing = []
    for path in CONFIGS:
        if '/_base_/models/' in path or path.endswith('seggan_defaults.py'):
            continue
        for where, pipeline in _pipelines(_load(path)):
            if where != 'tta_pipeline' and not any(t.type == 'CheckSegSample'
                                                   for t in pipeline):
                missing.append(f'{path}: {where} has no CheckSegSample')
            missing += [
                f'{path}: {where}: {bad}' for bad in _unchecked_loads(pipeline)
            ]
    assert missing == []
