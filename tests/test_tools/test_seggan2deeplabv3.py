"""Export: a SegGAN checkpoint becomes a plain DeepLabV3 checkpoint."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model
from mmseg.registry import MODELS
from seggan_testing import (REPO, TINY_DEEPLAB, TINY_SEGGAN, Payload,
                            import_tool, run_tool)

from mmseg_seggan.utils import UnsafeCheckpointError, load_checkpoint_file

CONVERTER = osp.join(REPO, 'tools', 'model_converters', 'seggan2deeplabv3.py')


@pytest.fixture
def seggan_ckpt(tmp_path):
    cfg = Config.fromfile(TINY_SEGGAN)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = str(tmp_path / 'seggan.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(iter=4, dataset_meta=dict(classes=list('abcdef')))),
        path)
    return path


def test_export_loads_strictly_in_plain_deeplabv3_with_identical_logits(
        tmp_path, seggan_ckpt):
    dst = str(tmp_path / 'plain.pth')
    res = run_tool([CONVERTER, seggan_ckpt, dst], timeout=120)
    assert res.returncode == 0, res.stderr
    assert 'dropped' in res.stdout
    state = load_checkpoint_file(dst)['state_dict']
    assert not any(
        k.startswith(('generator.', 'discriminator.')) for k in state)
    assert osp.getsize(dst) < osp.getsize(seggan_ckpt)

    plain = init_model(Config.fromfile(TINY_DEEPLAB), dst, device='cpu')
    # strict: every key of the plain model is in the file and vice versa
    assert set(plain.state_dict()) == set(state)
    seggan = init_model(
        Config.fromfile(TINY_SEGGAN), seggan_ckpt, device='cpu')
    torch.manual_seed(0)
    inputs = torch.rand(2, 3, 32, 48) * 255
    with torch.no_grad():
        a = seggan(
            seggan.data_preprocessor(dict(inputs=list(inputs.byte())),
                                     False)['inputs'],
            mode='tensor')
        b = plain(
            plain.data_preprocessor(dict(inputs=list(inputs.byte())),
                                    False)['inputs'],
            mode='tensor')
    assert torch.equal(a, b)


def test_export_refuses_payload_and_same_path(tmp_path, seggan_ckpt):
    sentinel = str(tmp_path / 'PWNED')
    evil = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=Payload(sentinel)), evil)
    res = run_tool([CONVERTER, evil, str(tmp_path / 'out.pth')], timeout=120)
    assert res.returncode != 0
    assert 'not a plain checkpoint' in res.stderr
    assert not osp.exists(sentinel) and not osp.exists(tmp_path / 'out.pth')
    convert = import_tool('tools/model_converters/seggan2deeplabv3.py').convert
    with pytest.raises(ValueError, match='same file'):
        convert(seggan_ckpt, seggan_ckpt)
    with pytest.raises(UnsafeCheckpointError):
        convert(evil, str(tmp_path / 'o.pth'))
