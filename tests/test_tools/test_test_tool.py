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


def test_out_writes_each_predicted_mask(tmp_path, toy_root, checkpoint, model):
    masks, names = _test(tmp_path, toy_root, checkpoint)
    for name in names:
        img = mmcv.imread(osp.join(toy_root, 'img_dir', 'val', name))
        expected = _logits(model, img).argmax(0).numpy()
        assert masks[name].shape == img.shape[:2]
        assert len(np.unique(expected)) > 1
        np.testing.assert_array_equal(masks[name], expected, err_msg=name)


def test_tta_averages_the_image_and_its_mirror(tmp_path, toy_root, checkpoint,
                                               model):
    masks, names = _test(tmp_path, toy_root, checkpoint, '--tta')
    differs = False
    for name in names:
        img = mmcv.imread(osp.join(toy_root, 'img_dir', 'val', name))
        plain = _logits(model, img)
        mirrored = _logits(model, np.ascontiguousarray(img[:, ::-1]))
        prob = plain.softmax(0) + mirrored.flip(-1).softmax(0)
        np.testing.assert_array_equal(
            masks[name], prob.argmax(0).numpy(), err_msg=name)
        differs |= not torch.equal(prob.argmax(0), plain.argmax(0))
    assert differs  # the mirror changed some prediction: TTA did run
