"""tools/test.py's ``--out`` and ``--tta`` (mmseg's flags) on a SegGAN
checkpoint of the embedded default (configs/seggan_toy.py)."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from seggan_testing import REPO, run_tool, save_toy_checkpoint

CONFIG = osp.join(REPO, 'configs', 'seggan_toy.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A random SegGAN checkpoint whose classifier is sharp enough that the
    prediction varies across a scene (at init it is one class everywhere,
    the same with and without the mirror)."""
    torch.manual_seed(0)  # not whatever state the tests before left
    path = save_toy_checkpoint(
        CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'seggan.pth'))
    ckpt = torch.load(path)
    ckpt['state_dict']['decode_head.conv_seg.weight'] *= 30
    torch.save(ckpt, path)
    return path


@pytest.fixture(scope='module')
def model(checkpoint):
    from mmseg.apis import init_model
    return init_model(CONFIG, checkpoint, device='cpu')


def _test(tmp_path, toy_root, checkpoint, *flags):
    out = str(tmp_path / 'out')
    res = run_tool([
        'tools/test.py', CONFIG, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--out', out, *flags, '--cfg-options',
        f'test_dataloader.dataset.data_root={toy_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ])
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert 'mIoU' in res.stdout + res.stderr
    names = sorted(os.listdir(osp.join(toy_root, 'img_dir', 'val')))
    assert sorted(os.listdir(out)) == names
    return {
        name: mmcv.imread(osp.join(out, name), flag='unchanged')
        for name in names
    }, names


def _logits(model, img):
    from mmseg.apis import inference_model
    return inference_model(model, img).seg_logits.data


def assert_same_prediction(mask, score, name):
    """``mask`` is the argmax of ``score`` (C, H, W), except where two
    classes tie to float precision (batching may change the last bits)."""
    assert mask.shape == score.shape[1:], name
    differ = mask != score.argmax(0).numpy()
    top2 = score.topk(2, dim=0).values
    near_tie = (top2[0] - top2[1]).numpy() <= 1e-5 * top2[0].abs().max().item()
    assert not (differ & ~near_tie).any(), name
    assert differ.mean() < 0.01, name


def test_out_writes_each_predicted_mask(tmp_path, toy_root, checkpoint, model):
    masks, names = _test(tmp_path, toy_root, checkpoint)
    for name in names:
        img = mmcv.imread(osp.join(toy_root, 'img_dir', 'val', name))
        logits = _logits(model, img)
        assert masks[name].shape == img.shape[:2]
        assert len(np.unique(logits.argmax(0))) > 1
        assert_same_prediction(masks[name], logits, name)


def test_tta_averages_the_image_and_its_mirror(tmp_path, toy_root, checkpoint,
                                               model):
    masks, names = _test(tmp_path, toy_root, checkpoint, '--tta')
    differs = False
    for name in names:
        img = mmcv.imread(osp.join(toy_root, 'img_dir', 'val', name))
        plain = _logits(model, img)
        mirrored = _logits(model, np.ascontiguousarray(img[:, ::-1]))
        prob = plain.softmax(0) + mirrored.flip(-1).softmax(0)
        assert_same_prediction(masks[name], prob, name)
        differs |= not torch.equal(prob.argmax(0), plain.argmax(0))
    assert differs  # the mirror changed some prediction: TTA did run
