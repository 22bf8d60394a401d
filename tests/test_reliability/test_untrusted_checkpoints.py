"""Bad checkpoint files on every path that loads one.

Paths: ``load_from`` (``tools/train.py``), ``--resume`` (``tools/train.py``,
``last_checkpoint`` naming the file), ``tools/test.py``, mmseg's
``init_model``, the generator's ``init_cfg=dict(type='Pretrained')`` (phase
2 starting from a phase-1 G), and the export converter.
Files: a pickle payload (must be refused and never run), a truncated file
(must be named), a checkpoint of another class count or G/D width (must
name the parameter and both shapes instead of loading random weights).

The tools run in-process through their ``main()`` (same code as the
command line, seconds instead of a fresh interpreter each); two of them
also run as real processes to show what a user sees on the console.
"""
import os
import os.path as osp
import pickle
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model
from mmseg.registry import MODELS
from seggan_testing import REPO, data_root_cli, import_tool, run_tool

from mmseg_seggan.utils import (CheckpointShapeError, CorruptCheckpointError,
                                UnsafeCheckpointError, load_checkpoint_file)

CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'reliability_seggan.py')
CONVERTER = 'tools/model_converters/seggan2deeplabv3.py'
# mmseg's init_model and init_cfg=Pretrained take a checkpoint name, not a
# loader: ``seggan://<path>`` reads the path with the package's loader.
SCHEME = 'seggan://'
NOT_PLAIN = 'is not a plain checkpoint'


class SystemPayload:
    """Unpickling this runs a shell command that creates ``sentinel``."""

    def __init__(self, sentinel):
        self.cmd = f'touch {sentinel}'

    def __reduce__(self):
        return (os.system, (self.cmd, ))


def _write_sentinel(path):  # a plain function as the payload's callable
    with open(path, 'w') as f:
        f.write('code ran')


class FunctionPayload:

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (_write_sentinel, (self.sentinel, ))


def _cfg(**options) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(options)
    return cfg


def _save_model(path, **options) -> str:
    torch.manual_seed(0)
    model = MODELS.build(_cfg(**options).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=8)), path)
    return path


@pytest.fixture
def evil(tmp_path):
    """A checkpoint with real weights whose ``meta`` runs ``touch``."""
    sentinel = str(tmp_path / 'SENTINEL')
    path = str(tmp_path / 'evil.pth')
    state = MODELS.build(_cfg().model).state_dict()
    torch.save(dict(state_dict=state, meta=SystemPayload(sentinel)), path)
    return path, sentinel


@pytest.fixture
def truncated(tmp_path):
    path = _save_model(str(tmp_path / 'cut.pth'))
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    return path


def _train_main(monkeypatch, root, work, *extra, resume=False):
    tool = import_tool('tools/train.py')
    argv = ['train.py', CONFIG, '--work-dir', work]
    argv += ['--resume'] if resume else []
    argv += ['--cfg-options'] + data_root_cli(root) + list(extra)
    monkeypatch.setattr(sys, 'argv', argv)
    tool.main()


def _test_main(monkeypatch, root, work, checkpoint):
    tool = import_tool('tools/test.py')
    monkeypatch.setattr(
        sys, 'argv',
        ['test.py', CONFIG, checkpoint, '--work-dir', work, '--cfg-options'] +
        data_root_cli(root))
    tool.main()


def _resume_dir(tmp_path, checkpoint):
    """A work dir whose last_checkpoint names ``checkpoint``."""
    work = str(tmp_path / 'resume_work')
    os.makedirs(work, exist_ok=True)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(checkpoint)
    return work


def _pretrained_generator(checkpoint):
    cfg = _cfg()
    cfg.model.generator.init_cfg = dict(
        type='Pretrained', checkpoint=checkpoint, prefix='generator.')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _load(path_kind, file, tmp_path, monkeypatch, root):
    """Load ``file`` through one of the loading paths."""
    work = str(tmp_path / f'work_{path_kind}')
    if path_kind == 'load_from':
        _train_main(monkeypatch, root, work, f'load_from={file}')
    elif path_kind == 'resume':
        _train_main(
            monkeypatch, root, _resume_dir(tmp_path, file), resume=True)
    elif path_kind == 'test_tool':
        _test_main(monkeypatch, root, work, file)
    elif path_kind == 'init_model':
        init_model(_cfg(), SCHEME + file, device='cpu')
    elif path_kind == 'pretrained_generator':
        _pretrained_generator(SCHEME + file)
    elif path_kind == 'init_model_plain_path':
        init_model(_cfg(), file, device='cpu')
    elif path_kind == 'pretrained_generator_plain_path':
        _pretrained_generator(file)
    elif path_kind == 'converter':
        import_tool(CONVERTER).convert(file, str(tmp_path / 'out.pth'))
    else:
        raise ValueError(path_kind)


ALL_PATHS = [
    'load_from', 'resume', 'test_tool', 'init_model', 'pretrained_generator',
    'pretrained_generator_plain_path', 'converter'
]


@pytest.mark.parametrize('path_kind', ALL_PATHS)
def test_payload_refused_on_every_path(path_kind, evil, tmp_path, monkeypatch,
                                       toy_root):
    file, sentinel = evil
    with pytest.raises(UnsafeCheckpointError, match=NOT_PLAIN) as e:
        _load(path_kind, file, tmp_path, monkeypatch, toy_root)
    assert file in str(e.value) and 'posix.system' in str(e.value)
    assert not osp.exists(sentinel), 'the payload ran'


def _onedl_mmengine() -> bool:
    from importlib.metadata import PackageNotFoundError, version
    try:
        version('onedl-mmengine')
        return True
    except PackageNotFoundError:
        return False


def test_init_model_on_a_plain_path_is_as_safe_as_mmengine_says(
        evil, tmp_path, monkeypatch, toy_root):
    """mmseg's ``init_model`` on a plain path is mmengine's loader alone (the
    plugin replaces nothing): OpenMMLab's mmengine keeps torch's weights-only
    default and refuses the payload; the onedl fork falls back to
    ``weights_only=False``, which docs/installation.md must say (with the
    ``seggan://`` way round it) for as long as the fork does it."""
    file, sentinel = evil
    if not _onedl_mmengine():
        with pytest.raises(pickle.UnpicklingError, match='posix.system'):
            _load('init_model_plain_path', file, tmp_path, monkeypatch,
                  toy_root)
        assert not osp.exists(sentinel), 'the payload ran'
        return
    try:
        _load('init_model_plain_path', file, tmp_path, monkeypatch, toy_root)
    except Exception:
        pass  # the payload returns no state dict
    assert osp.exists(sentinel), (
        'the onedl fork no longer runs the payload: update '
        'docs/installation.md and this test')
    with open(osp.join(osp.dirname(__file__), '..', '..', 'docs',
                       'installation.md')) as f:
        doc = f.read()
    assert 'weights_only=False' in doc and 'seggan://' in doc


@pytest.mark.parametrize('path_kind', ALL_PATHS)
def test_truncated_file_named_on_every_path(path_kind, truncated, tmp_path,
                                            monkeypatch, toy_root):
    with pytest.raises(
            CorruptCheckpointError, match='truncated or corrupt') as e:
        _load(path_kind, truncated, tmp_path, monkeypatch, toy_root)
    assert truncated in str(e.value)


@pytest.mark.parametrize('variant', [
    'zip_os_system', 'zip_function', 'legacy_format', 'raw_pickle',
    'in_state_dict'
])
def test_payload_variants_never_run(variant, tmp_path):
    sentinel = str(tmp_path / 'SENTINEL')
    path = str(tmp_path / 'evil.pth')
    if variant == 'zip_os_system':
        torch.save(dict(meta=SystemPayload(sentinel)), path)
    elif variant == 'zip_function':
        torch.save(dict(meta=FunctionPayload(sentinel)), path)
    elif variant == 'legacy_format':
        torch.save(
            dict(meta=SystemPayload(sentinel)),
            path,
            _use_new_zipfile_serialization=False)
    elif variant == 'raw_pickle':
        with open(path, 'wb') as f:
            pickle.dump(dict(meta=SystemPayload(sentinel)), f)
    else:
        torch.save(dict(state_dict={'w': SystemPayload(sentinel)}), path)
    with pytest.raises(UnsafeCheckpointError, match=NOT_PLAIN):
        load_checkpoint_file(path)
    assert not osp.exists(sentinel)


@pytest.mark.parametrize('content', [
    b'', b'not a checkpoint\n', b'hello\n', b'{"state_dict": {}}',
    bytes(range(256)) * 8
])
def test_garbage_files_are_named_as_corrupt(content, tmp_path):
    path = str(tmp_path / 'garbage.pth')
    with open(path, 'wb') as f:
        f.write(content)
    with pytest.raises(CorruptCheckpointError, match='garbage.pth'):
        load_checkpoint_file(path)


def test_payload_refused_by_the_real_commands(evil, tmp_path, toy_root):
    """What a user sees: both CLIs stop with the message, nothing runs."""
    file, sentinel = evil
    res = run_tool(
        [
            'tools/test.py', CONFIG, file, '--work-dir',
            str(tmp_path / 'w1'), '--cfg-options'
        ] + data_root_cli(toy_root),
        timeout=240)
    assert res.returncode != 0
    assert 'UnsafeCheckpointError' in res.stderr and NOT_PLAIN in res.stderr
    res = run_tool(
        [
            'tools/train.py', CONFIG, '--resume', '--work-dir',
            _resume_dir(tmp_path, file), '--cfg-options'
        ] + data_root_cli(toy_root),
        timeout=240)
    assert res.returncode != 0
    assert NOT_PLAIN in res.stderr and file in res.stderr
    assert not osp.exists(sentinel)


# --------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    'path_kind',
    ['load_from', 'test_tool', 'init_model', 'init_model_plain_path'])
def test_other_class_count_names_parameter_and_shapes(path_kind, tmp_path,
                                                      monkeypatch, toy_root):
    ckpt = _save_model(
        str(tmp_path / 'four_classes.pth'), **{
            'model.decode_head.num_classes': 4,
            'model.auxiliary_head.num_classes': 4
        })
    with pytest.raises(CheckpointShapeError) as e:
        _load(path_kind, ckpt, tmp_path, monkeypatch, toy_root)
    msg = str(e.value)
    assert ('decode_head.conv_seg.weight: checkpoint [4, 8, 1, 1] vs model '
            '[6, 8, 1, 1]') in msg
    assert 'generator.' in msg  # its input channels are the classes
    assert 'trained for 4 classes' in msg
    if path_kind in ('load_from', 'test_tool'):  # the runner knows the file
        assert ckpt in msg


@pytest.mark.parametrize('path_kind', [
    'pretrained_generator', 'pretrained_generator_plain_path', 'load_from',
    'resume'
])
def test_other_generator_width_names_parameter_and_shapes(
        path_kind, tmp_path, monkeypatch, toy_root):
    ckpt = _save_model(
        str(tmp_path / 'wide_gan.pth'), **{'model.generator.base_channels': 8})
    if path_kind == 'resume':  # a resumable checkpoint of another config
        full = load_checkpoint_file(ckpt)
        full['meta'] = dict(iter=2, epoch=0)
        torch.save(full, ckpt)
    with pytest.raises(
            CheckpointShapeError,
            match=r'checkpoint \[8, \d+, \d, \d\] vs model '
            r'\[4, \d+, \d, \d\]') as e:
        _load(path_kind, ckpt, tmp_path, monkeypatch, toy_root)
    assert 'generator.base_channels' in str(e.value)
    assert 'more' in str(e.value)  # 33 mismatches: the first 12 listed


def test_plain_deeplabv3_into_seggan_is_allowed(tmp_path, monkeypatch,
                                                toy_root):
    """The paper's phase 2 start: baseline weights, fresh G and D."""
    cfg = _cfg()
    seg = {
        k: v
        for k, v in cfg.model.items()
        if k not in ('generator', 'discriminator', 'gan_iters',
                     'gan_content_weight', 'gan_adv_weight', 'content_weight',
                     'adv_weight', 'phase1_content_loss', 'phase1_adv_loss',
                     'phase2_content_loss', 'phase2_adv_loss')
    }
    seg['type'] = 'EncoderDecoder'
    torch.manual_seed(3)
    baseline = MODELS.build(seg)
    path = str(tmp_path / 'baseline.pth')
    torch.save(dict(state_dict=baseline.state_dict(), meta={}), path)
    work = str(tmp_path / 'work')
    _train_main(monkeypatch, toy_root, work, f'load_from={path}',
                'train_cfg.max_iters=2', 'model.gan_iters=1',
                'default_hooks.checkpoint.interval=1')
    final = load_checkpoint_file(osp.join(work, 'iter_1.pth'))['state_dict']
    # phase 1 ran: the segmentor is still the baseline's, bit for bit
    for k, v in baseline.state_dict().items():
        assert torch.equal(final[k], v), k
