"""Every config in configs/ parses, and every runnable one builds: model
(and a forward pass), optimizers, schedulers, hooks, pipelines, metrics.

A config is only read when someone runs it; a typo, a stale key or heads
that no longer match the backbone would otherwise surface at the start of a
long run. The mmpretrain config builds here without mmpretrain (it cannot be
installed beside this torch): its backbone's scope is checked, then mmseg's
own ResNetV1c takes the same arguments.
"""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmseg.registry import (DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS,
                            VISUALIZERS)
from seggan_testing import REPO

ALL = sorted(
    osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
RUNNABLE = [p for p in ALL if '/_base_/' not in p]


def load(path):
    return Config.fromfile(osp.join(REPO, path))


def test_configs_were_found():
    assert len(RUNNABLE) >= 30 and 'configs/seggan_voc.py' in RUNNABLE
    assert any(p.startswith('configs/mmpretrain/') for p in RUNNABLE)


@pytest.mark.parametrize('path', [p for p in ALL if p not in RUNNABLE])
def test_base_config_parses(path):
    assert load(path).keys()


def _without_mmpretrain(model_cfg):
    """mmseg's ResNetV1c in place of ``mmpretrain.ResNetV1c``, same args."""
    backbone = model_cfg.backbone
    if backbone.type.startswith('mmpretrain.'):
        assert backbone.type == 'mmpretrain.ResNetV1c'  # mmpretrain's scope
        backbone.type = 'ResNetV1c'
        return True
    return False


def _pipelines(cfg):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name) is None:  # no validation in the experiment configs
            assert name != 'train_dataloader'
            continue
        ds = cfg[name].dataset
        for d in ds.datasets if ds.type == 'ConcatDataset' else [ds]:
            yield d.type, d.pipeline
    if 'tta_pipeline' in cfg:
        yield None, cfg.tta_pipeline


@pytest.mark.parametrize('path', RUNNABLE)
def test_config_builds(path):
    cfg = load(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    assert 'mmseg_seggan' in cfg.custom_imports.imports
    swapped = _without_mmpretrain(cfg.model)
    assert swapped == path.startswith('configs/mmpretrain/')
    # Built on the meta device, then given uninitialized memory: the VOC
    # ResNet-50 would spend seconds drawing initial weights. The forward
    # pass checks shapes only (a head whose in_channels do not match the
    # backbone fails); the values are garbage.
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    model = model.to_empty(device='cpu').eval()
    num_classes = cfg.model.decode_head.num_classes
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 32, 32), mode='tensor')
        assert out.shape[:2] == (2, num_classes)
        if cfg.model.type == 'SegGAN':  # G paints from the classes, D judges
            prob = torch.zeros(2, num_classes, 32, 32)
            fake = model.generator(prob)
            assert fake.shape == (2, 3, 32, 32)
            cond = prob if model.discriminator.conditional else None
            assert model.discriminator(fake, cond).shape[:2] == (2, 1)

    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    wrappers = optim.values() if isinstance(optim,
                                            OptimWrapperDict) else [optim]
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        schedulers = [s for v in schedulers.values() for s in v]
    for wrapper in wrappers:
        for sched in ([schedulers]
                      if isinstance(schedulers, dict) else schedulers):
            PARAM_SCHEDULERS.build(
                dict(sched, optimizer=wrapper),
                default_args=dict(
                    epoch_length=1) if sched.get('by_epoch') else None)
    # the visualization hooks need the config's visualizer
    VISUALIZERS.build(dict(cfg.visualizer, name=f'test_configs:{path}'))
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(copy.deepcopy(hook))
    for hook in cfg.default_hooks.values():
        HOOKS.build(copy.deepcopy(hook))

    # tools/test.py --tta reads it (mmseg's flag, advertised in the README)
    assert 'tta_pipeline' in cfg, f'{path}: no tta_pipeline for --tta'
    for dataset_type, pipeline in _pipelines(cfg):
        if dataset_type is not None:
            assert DATASETS.get(dataset_type) is not None, dataset_type
        for transform in pipeline:
            TRANSFORMS.build(copy.deepcopy(transform))
    for name in ('val_evaluator', 'test_evaluator'):
        if cfg.get(name) is not None:
            METRICS.build(copy.deepcopy(cfg[name]))


def test_dataset_base_stands_beside_a_foreign_config(tmp_path):
    """Bugs (issue 32): the plugin's dataset bases beside an mmseg config
    gave ``KeyError: Duplicate key is not allowed among bases``; the recipe
    left the foreign config's ``test_pipeline`` (Cityscapes' 2048x1024
    resize) to mmseg's ``inference_model``. The recipe of docs/usage.md,
    verbatim, on mmseg's own PSPNet config: the ``*_dropin.py`` base gives
    what the usual base gives."""
    text = open(osp.join(REPO, 'docs', 'usage.md')).read()
    recipe = text.split('Your data:')[1].split('```python\n')[1].split(
        '```')[0]
    base = osp.join(REPO, 'configs', '_base_') + '/'
    recipe = recipe.replace(
        './my_segmentor_config.py',
        'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
    ).replace('mmseg_seggan::_base_/', base)
    (tmp_path / 'mine.py').write_text(recipe)
    cfg = Config.fromfile(str(tmp_path / 'mine.py'))
    usual = load('configs/_base_/datasets/stanford_background.py')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'test_pipeline'):
        assert cfg[key] == usual[key], key
    assert cfg.runner_type == 'SegGANRunner'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'  # PSPNet's own


def test_stanford_without_split_warns(tmp_path):
    """Bug (issue 32): StanfordBackgroundDataset without ann_file or split
    silently took all images, for train and val alike."""
    import sys
    sys.path.insert(0, osp.join(REPO, 'tests', 'test_datasets'))
    from datasets_testing import make_stanford_raw
    from mmengine.logging import MMLogger

    from mmseg_seggan.datasets import StanfordBackgroundDataset
    make_stanford_raw(str(tmp_path))
    logger = MMLogger.get_current_instance()
    records = []
    handler = __import__('logging').Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        StanfordBackgroundDataset(
            data_root=str(tmp_path), split='train', num_train=2,
            lazy_init=False)
        assert not records
        StanfordBackgroundDataset(
            data_root=str(tmp_path), pipeline=[], lazy_init=False)
    finally:
        logger.removeHandler(handler)
    assert any("ann_file='splits/train.txt'" in r.getMessage()
               for r in records)
