"""The dataset configs: consistent class counts, schedules, and real loading
of generated data through their full pipelines."""
import copy
from functools import lru_cache

import pytest
from datasets_testing import make_camvid, make_stanford_raw
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_seggan.datasets import (CheckedDatasetMixin, LoadCheckedAnnotations,
                                   LoadCheckedImageFromFile,
                                   convert_stanford_background)

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
        # mmseg's loader by name (mmseg's inference APIs look it up), a
        # dataset that loads it with the checks.
        assert ds.pipeline[0].type == 'LoadImageFromFile'
        assert issubclass(DATASETS.get(ds.type), CheckedDatasetMixin)
    assert cfg.default_hooks.num_classes_check.type == 'NumClassesCheckHook'
    if cfg.model.type == 'SegGAN':
        hook = [h for h in cfg.custom_hooks if h.type == 'SegGANPhaseHook']
        assert hook[0].gan_iters == cfg.gan_iters
        assert cfg.train_cfg.max_iters == cfg.gan_iters + cfg.finetune_iters
        assert cfg.param_scheduler == []
        assert cfg.optim_wrapper.segmentor.optimizer.lr == 1e-4
        control = 'control' in path
        assert (cfg.model.content_weight == 0) == control
        assert (cfg.model.adv_weight == 0) == control


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
        loaders = [type(t) for t in ds.pipeline.transforms]
        assert LoadCheckedImageFromFile in loaders
        assert LoadCheckedAnnotations in loaders
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
