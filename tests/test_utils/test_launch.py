"""What tools/train.py and tools/test.py share: config, AMP, CPU DDP."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from seggan_testing import CONFIGS, TINY_DEEPLAB, TINY_SEGGAN, run_tool

from mmseg_seggan.engine.hooks import enable_amp
from mmseg_seggan.utils import gan_iters_of
from seggan_launch import load_config


def test_amp_applies_to_every_seggan_optimizer_on_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config.fromfile(TINY_SEGGAN)
    enable_amp(cfg)
    for net in ('segmentor', 'generator', 'discriminator'):
        assert cfg.optim_wrapper[net]['type'] == 'AmpOptimWrapper'
        assert cfg.optim_wrapper[net]['loss_scale'] == 'dynamic'
    plain = Config.fromfile(TINY_DEEPLAB)
    enable_amp(plain)
    assert plain.optim_wrapper.type == 'AmpOptimWrapper'
    # The CPU policy's hook has no place on a GPU.
    assert 'BF16PolicyHook' not in str(cfg.get('custom_hooks'))


def test_work_dir_priority_and_missing_config(tmp_path):
    cfg = load_config(TINY_SEGGAN)
    assert cfg.work_dir.endswith('work_dirs/tiny_seggan')
    cfg = load_config(
        TINY_SEGGAN, {'train_cfg.max_iters': 7}, work_dir=str(tmp_path))
    assert cfg.work_dir == str(tmp_path) and cfg.train_cfg.max_iters == 7
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))


RELIABILITY = osp.join(CONFIGS, 'reliability_seggan.py')  # gan_iters 4 + 4


@pytest.mark.parametrize('option,fix', [
    (dict(gan_iters=6), 'model.gan_iters=6 train_cfg.max_iters=10'),
    (dict(finetune_iters=3), 'train_cfg.max_iters=7'),
])
def test_substituted_config_variable_is_refused_with_the_key_to_use(
        option, fix):
    """Bug: ``--cfg-options gan_iters=N`` changed nothing (the config had
    already written 4 into the hook and into max_iters) and said nothing:
    the run trained 4 + 4 iterations."""
    key = next(iter(option))
    with pytest.raises(ValueError, match=f'{key}=.*would change nothing') \
            as e:
        load_config(RELIABILITY, option)
    assert f'--cfg-options {fix}' in str(e.value)
    assert RELIABILITY in str(e.value)
    # The keys it names do what was asked.
    cfg = load_config(RELIABILITY, {
        'model.gan_iters': 6,
        'train_cfg.max_iters': 10
    })
    assert gan_iters_of(cfg) == 6 and cfg.train_cfg.max_iters == 10


def test_substituted_variable_refused_by_the_train_and_test_tools(tmp_path):
    """The CLI path (what the audit ran): refused before anything is built."""
    for tool, extra in (('tools/train.py', []),
                        ('tools/test.py', [str(tmp_path / 'none.pth')])):
        res = run_tool([
            tool, RELIABILITY, *extra, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options', 'gan_iters=6',
            'train_dataloader.dataset.data_root=' + str(tmp_path / 'none')
        ],
                       timeout=120)
        assert res.returncode != 0
        assert 'model.gan_iters=6' in res.stderr, res.stderr[-2000:]
    assert not osp.exists(tmp_path / 'work')
