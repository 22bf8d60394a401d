"""What tools/train.py and tools/test.py share: config, AMP, CPU DDP."""
import pytest
import torch
from mmengine.config import Config
from seggan_testing import TINY_DEEPLAB, TINY_SEGGAN

from mmseg_seggan.utils.launch import enable_amp, load_config


def test_amp_refused_on_cpu_with_clear_message(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match='--amp needs a CUDA GPU'):
        enable_amp(Config.fromfile(TINY_SEGGAN))


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


def test_work_dir_priority_and_missing_config(tmp_path):
    cfg = load_config(TINY_SEGGAN)
    assert cfg.work_dir.endswith('work_dirs/tiny_seggan')
    cfg = load_config(
        TINY_SEGGAN, {'train_cfg.max_iters': 7}, work_dir=str(tmp_path))
    assert cfg.work_dir == str(tmp_path) and cfg.train_cfg.max_iters == 7
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))
