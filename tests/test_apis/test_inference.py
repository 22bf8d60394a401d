"""mmseg's inference APIs on every config of the package (issue 12).

mmseg's ``inference_model`` drops the test pipeline's transform *named*
``LoadAnnotations`` and ``MMSegInferencer`` looks for one *named*
``LoadImageFromFile``; configs that named the package's checked loaders
instead failed with ``KeyError: 'seg_map_path'`` and ``ValueError:
LoadImageFromFile is not found in the test pipeline``.

The matrix:

- every config under ``configs/`` (found by glob, so new ones are covered):
  the pipelines exactly as ``inference_model`` (image file and array) and
  ``MMSegInferencer`` build them, run on a generated image, and the model
  as ``init_model`` builds it;
- the entry points (``configs/seggan_*.py``, the SegGAN EfficientNet
  configs ``configs/seggan/seggan_*lite0*`` and the semi-supervised
  ``configs/seggan_semi/seggan-semi_*``), end to end on a random
  SegGAN checkpoint and its export (``seggan2deeplabv3.py``):
  ``init_model`` + ``inference_model`` on a file and on an array,
  ``MMSegInferencer`` writing its prediction and visualization to
  ``out_dir``, and what mmseg's ``demo/image_demo.py`` does
  (``init_model``, ``revert_sync_batchnorm`` on the CPU,
  ``inference_model``, ``show_result_pyplot`` to ``--out-file``) with the
  plain baseline config and the exported checkpoint. All four predictions
  must be the same.
"""
import ast
import copy
import glob
import os.path as osp
from functools import lru_cache

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.apis import (MMSegInferencer, inference_model, init_model,
                        show_result_pyplot)
from mmseg.apis.utils import _preprare_data
from mmseg.registry import MODELS
from PIL import Image
from seggan_testing import REPO, import_tool

MMPRETRAIN = 'configs/mmpretrain/'  # needs mmpretrain (see README)
ALL_CONFIGS = sorted(
    osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '/_base_/' not in p and MMPRETRAIN not in osp.relpath(p, REPO))
ENTRY_POINTS = sorted(
    osp.relpath(p, REPO)
    for pattern in ('configs/seggan_*.py', 'configs/seggan/seggan_*lite0*.py',
                    'configs/seggan_semi/seggan-semi_*.py')
    for p in glob.glob(osp.join(REPO, pattern)))
CHECKED_LOADERS = ('LoadCheckedImageFromFile', 'LoadCheckedAnnotations')


@lru_cache(maxsize=None)
def _parsed(path):
    return Config.fromfile(osp.join(REPO, path))  # 1-2 s: parse once


def _cfg(path):
    return copy.deepcopy(_parsed(path))


def _cpu_sized(cfg):
    """The config with its test-time ``Resize`` scaled down to at most 512
    on the long side.

    Only the VOC configs resize that far (to 2048x512, i.e. 512x683 for an
    outdoor photo: about 15 s per R50-D8 forward on one CPU thread). What
    the APIs do with a config does not depend on the scale.
    """
    for pipeline in (cfg.test_pipeline, cfg.test_dataloader.dataset.pipeline):
        for t in pipeline:
            if t['type'] == 'Resize' and max(t['scale']) > 512:
                factor = max(t['scale']) / 512
                t['scale'] = tuple(int(v / factor) for v in t['scale'])
    return cfg


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    """An outdoor-sized generated image (file and array)."""
    path = str(tmp_path_factory.mktemp('apis') / 'street.png')
    img = np.random.default_rng(0).integers(0, 256, (60, 80, 3), np.uint8)
    assert cv2.imwrite(path, img)
    return path, img


def _plain_config_of(path):
    """The plain DeepLabV3 config a SegGAN config inherits from."""
    while '/deeplabv3/' not in path:
        tree = ast.parse(open(osp.join(REPO, path)).read())
        bases = [
            n.value for n in tree.body if isinstance(n, ast.Assign)
            and getattr(n.targets[0], 'id', None) == '_base_'
        ]
        local = [e.value for e in bases[0].elts if '::' not in e.value]
        path = osp.normpath(osp.join(osp.dirname(path), local[0]))
    return path


def test_no_config_names_a_checked_loader():
    # Bug: a config naming LoadCheckedAnnotations / LoadCheckedImageFromFile
    # is invisible to mmseg's inference APIs. The datasets swap the checked
    # loaders in (tests/test_datasets/test_camvid.py).
    offenders = []
    for path in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True):
        text = open(path).read()
        offenders += [(path, n) for n in CHECKED_LOADERS if n in text]
    assert not offenders


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_api_pipelines_and_init_model_on_every_config(path, image):
    img_path, img = image
    cfg = _cfg(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))

    class Model:  # what _preprare_data reads of a model
        pass

    # inference_model: the top-level test_pipeline, LoadAnnotations removed.
    for inputs in (img_path, img):
        model = Model()
        model.cfg = _cfg(path)
        data, _ = _preprare_data(inputs, model)
        assert tuple(data['inputs'][0].shape[0:1]) == (3, )
        assert 'gt_sem_seg' not in data['data_samples'][0]
    # MMSegInferencer: test_dataloader.dataset.pipeline, InferencerLoader.
    pipeline = MMSegInferencer._init_pipeline(
        MMSegInferencer.__new__(MMSegInferencer), _cfg(path))
    for inputs in (img_path, img):
        out = pipeline(inputs)
        assert out['inputs'].shape[0] == 3
    # init_model builds the model without any download.
    segmentor = init_model(cfg, None, device='cpu')
    assert hasattr(segmentor, 'decode_head')


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_every_config_names_the_file_and_converts_arrays(path, tmp_path):
    # Issue 20. Bug: a config whose test_pipeline starts with mmcv's
    # LoadImageFromFile (cv2.error ... !buf.empty() for an empty file, no
    # name), or lacks ConvertImageToBGR (RuntimeError: The size of tensor
    # a (4) must match ... for a BGRA array).
    from mmseg_seggan.datasets import CorruptImageError
    init_default_scope(_cfg(path).get('default_scope', 'mmseg'))

    class Model:
        pass

    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    bgra = np.random.default_rng(0).integers(0, 256, (60, 80, 4), np.uint8)
    model = Model()
    model.cfg = _cfg(path)
    with pytest.raises(CorruptImageError, match=f'{empty} is empty'):
        _preprare_data(str(empty), model)
    model.cfg = _cfg(path)
    data, _ = _preprare_data(bgra, model)
    assert data['inputs'][0].shape[0] == 3
    assert torch.equal(data['inputs'][0],
                       _preprare_data(bgra[..., :3], model)[0]['inputs'][0])
    # MMSegInferencer reads the dataloader's pipeline: mmcv's loader there
    # (it looks it up by name; the datasets swap in their checked one).
    cfg = _cfg(path)
    assert cfg.test_dataloader.dataset.pipeline[0].type == \
        'LoadImageFromFile'
    pipeline = MMSegInferencer._init_pipeline(
        MMSegInferencer.__new__(MMSegInferencer), cfg)
    assert pipeline(bgra)['inputs'].shape[0] == 3
    # Bug: mmcv's loader there read an empty file into cv2.imdecode
    # (cv2.error ... !buf.empty(), no name); checked_local names it.
    with pytest.raises(CorruptImageError, match=r'empty\.png is empty'):
        pipeline(str(empty))


def _save_random_checkpoint(cfg, path):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    ds = cfg.test_dataloader.dataset
    from mmseg.registry import DATASETS
    meta = DATASETS.get(ds.type).METAINFO
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(
                    classes=meta['classes'], palette=meta['palette']))), path)
    return path


@pytest.mark.parametrize('path', ENTRY_POINTS)
def test_entry_point_end_to_end(path, image, tmp_path):
    img_path, img = image
    cfg = _cfg(path)
    assert cfg.model.type == 'SegGAN'
    configs = {path: _cpu_sized(_cfg(path))}
    plain = _plain_config_of(path)
    configs[plain] = _cpu_sized(_cfg(plain))
    seggan_ckpt = _save_random_checkpoint(cfg, str(tmp_path / 'seggan.pth'))
    exported = str(tmp_path / 'exported.pth')
    import_tool('tools/model_converters/seggan2deeplabv3.py').convert(
        seggan_ckpt, exported)
    assert not any(
        k.startswith('generator.') for k in torch.load(exported)['state_dict'])

    # init_model + inference_model, on a file and on an array.
    model = init_model(copy.deepcopy(configs[path]), seggan_ckpt, 'cpu')
    from_file = inference_model(model, img_path).pred_sem_seg.data[0]
    model = init_model(copy.deepcopy(configs[path]), seggan_ckpt, 'cpu')
    from_array = inference_model(model, img).pred_sem_seg.data[0]
    assert from_file.shape == img.shape[:2]

    # MMSegInferencer: prediction and visualization written to out_dir.
    out_dir = tmp_path / 'out'
    inferencer = MMSegInferencer(
        copy.deepcopy(configs[path]), seggan_ckpt, device='cpu')
    result = inferencer(img_path, out_dir=str(out_dir))
    pred_file = out_dir / 'pred' / '00000000_pred.png'
    vis_file = out_dir / 'vis' / 'street.png'
    assert pred_file.is_file() and vis_file.is_file()
    saved = np.array(Image.open(pred_file))
    np.testing.assert_array_equal(saved, result['predictions'])
    assert cv2.imread(str(vis_file)).shape == img.shape

    # mmseg's demo/image_demo.py, with the plain config and the export.
    demo_model = init_model(configs[plain], exported, device='cpu')
    assert demo_model.cfg.model.type == 'EncoderDecoder'
    demo_model = revert_sync_batchnorm(demo_model)
    demo_result = inference_model(demo_model, img_path)
    demo_file = tmp_path / 'demo.png'
    show_result_pyplot(
        demo_model,
        img_path,
        demo_result,
        title='result',
        opacity=0.5,
        with_labels=False,
        draw_gt=False,
        show=False,
        out_file=str(demo_file))
    assert cv2.imread(str(demo_file)).shape == img.shape

    # One model, four doors, one answer.
    for other in (from_array, torch.from_numpy(saved.astype(np.int64)),
                  demo_result.pred_sem_seg.data[0]):
        assert torch.equal(from_file.cpu().long(), other.cpu().long())
