"""Export: a SegGAN checkpoint becomes a plain segmentor checkpoint."""
import os
import os.path as osp
import signal
import stat

import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model
from mmseg.registry import MODELS
from seggan_testing import (REPO, TINY_DEEPLAB, TINY_SEGGAN, Payload,
                            import_tool, run_tool)

from mmseg_seggan.utils import UnsafeCheckpointError, load_checkpoint_file

CONVERTER = osp.join(REPO, 'tools', 'model_converters', 'seggan2segmentor.py')


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
    convert = import_tool('tools/model_converters/seggan2segmentor.py').convert
    with pytest.raises(ValueError, match='same file'):
        convert(seggan_ckpt, seggan_ckpt)
    with pytest.raises(UnsafeCheckpointError):
        convert(evil, str(tmp_path / 'o.pth'))


def _convert():
    return import_tool('tools/model_converters/seggan2segmentor.py').convert


def _bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def test_existing_dst_is_refused_unless_force(tmp_path, seggan_ckpt):
    """Bug: an existing DST was overwritten without a word."""
    convert = _convert()
    dst = str(tmp_path / 'plain.pth')
    convert(seggan_ckpt, dst)
    before = _bytes(dst)
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'w': torch.ones(1)}), other)
    with pytest.raises(FileExistsError, match='already exists.*--force'):
        convert(other, dst)
    assert _bytes(dst) == before
    res = run_tool([CONVERTER, other, dst, '--force'], timeout=120)
    assert res.returncode == 0, res.stderr
    assert set(load_checkpoint_file(dst)['state_dict']) == {'w'}


def test_swapped_src_and_dst_never_clobber_the_seggan_checkpoint(
        tmp_path, seggan_ckpt):
    """Bug: with SRC and DST swapped, the SegGAN checkpoint (G, D,
    optimizer) was replaced by the plain weights, exit 0."""
    convert = _convert()
    plain = str(tmp_path / 'plain.pth')
    convert(seggan_ckpt, plain)
    before = _bytes(seggan_ckpt)
    res = run_tool([CONVERTER, plain, seggan_ckpt], timeout=120)
    assert res.returncode != 0
    assert 'generator/discriminator weights' in res.stderr
    assert seggan_ckpt in res.stderr
    with pytest.raises(FileExistsError, match='not even with --force'):
        convert(plain, seggan_ckpt, force=True)
    # The same file under another name (a link) is still the same file.
    link = str(tmp_path / 'link.pth')
    os.symlink(seggan_ckpt, link)
    with pytest.raises(ValueError, match='same file'):
        convert(seggan_ckpt, link, force=True)
    assert _bytes(seggan_ckpt) == before


def test_output_mode_follows_umask(tmp_path, seggan_ckpt):
    """Bug: tempfile.mkstemp made every export 0600."""
    dst = str(tmp_path / 'plain.pth')
    old = os.umask(0o022)
    try:
        _convert()(seggan_ckpt, dst)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o644


KILL_DURING_WRITE = '''
import os, signal, sys
sys.path.insert(0, {tests!r})
from seggan_testing import import_tool
tool = import_tool('tools/model_converters/seggan2segmentor.py')

def save_half_then_die(obj, f, *args, **kwargs):
    if isinstance(f, (str, os.PathLike)):
        f = open(f, 'wb')
    f.write(b'PK half a checkpoint')
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

tool.torch.save = save_half_then_die
tool.convert({src!r}, {dst!r})
'''


def test_killed_export_leaves_no_half_dst(tmp_path, seggan_ckpt):
    """Bug: kill -9 left an anonymous 0600 ``tmpXXXX.tmp`` beside DST."""
    out = tmp_path / 'out'
    out.mkdir()
    dst = str(out / 'plain.pth')
    res = run_tool([
        '-c',
        KILL_DURING_WRITE.format(
            tests=osp.join(REPO, 'tests'), src=seggan_ckpt, dst=dst)
    ],
                   timeout=120)
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert os.listdir(out) == []  # serialized in memory, renamed complete
    _convert()(seggan_ckpt, dst)
    assert os.listdir(out) == ['plain.pth']
    assert load_checkpoint_file(dst)['state_dict']


@pytest.mark.parametrize('meta,hub_phase,refused', [
    (dict(iter=2, seggan=dict(gan_iters=2)), 1, True),
    (dict(iter=3, seggan=dict(gan_iters=2)), 2, False),
    (dict(iter=2), 1, True),  # no record: the hub's last phase
    (dict(iter=2), None, False),
])
def test_export_refuses_a_segmentor_phase2_never_trained(
        tmp_path, seggan_ckpt, meta, hub_phase, refused):
    """Bug (issue 32): a phase-1-only checkpoint (the segmentor never
    trained by SegGAN) was exported without a word."""
    ckpt = torch.load(seggan_ckpt, weights_only=True)
    ckpt['meta'] = meta
    if hub_phase:
        ckpt['message_hub'] = dict(runtime_info=dict(seggan_phase=hub_phase))
    torch.save(ckpt, seggan_ckpt)
    dst = str(tmp_path / 'plain.pth')
    res = run_tool([CONVERTER, seggan_ckpt, dst], timeout=120)
    assert (res.returncode != 0) == refused, res.stderr[-2000:]
    if refused:
        assert 'saved in phase 1' in res.stderr
        assert '--allow-phase1' in res.stderr and not osp.exists(dst)
        assert _convert()(seggan_ckpt, dst, allow_phase1=True)['dropped']


def test_old_name_still_exports(tmp_path, seggan_ckpt):
    old = osp.join(REPO, 'tools', 'model_converters', 'seggan2deeplabv3.py')
    dst = str(tmp_path / 'plain.pth')
    res = run_tool([old, seggan_ckpt, dst], timeout=120)
    assert res.returncode == 0 and 'dropped' in res.stdout, res.stderr
    assert import_tool('tools/model_converters/seggan2deeplabv3.py').convert
