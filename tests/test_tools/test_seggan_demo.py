"""The demo (README command 1) prints a bit-identical table for the same CPU
capability, threads and versions: its runs are single-threaded, load data
in the main process and use deterministic algorithms, so two runs give
bit-identical weights. Across capabilities the last digits differ; the demo
says whether its table is inside the band measured across them."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from seggan_testing import REPO, data_root_cli, import_tool, run_tool

from mmseg_seggan.utils import load_checkpoint_file

demo = import_tool('tools/misc/seggan_demo.py')


@pytest.mark.parametrize('config',
                         [demo.BASELINE, demo.GAN, demo.SEGGAN, demo.CONTROL])
def test_demo_configs_are_reproducible_and_match_the_script(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.randomness == dict(seed=0, deterministic=True)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:  # phase 1 alone has no validation
            assert loader.num_workers == 0
    iters = {
        demo.BASELINE: demo.BASE_ITERS,
        demo.GAN: demo.GAN_ITERS,
        demo.SEGGAN: demo.FT_ITERS,
        demo.CONTROL: demo.FT_ITERS
    }[config]
    assert cfg.train_cfg.max_iters == iters
    assert cfg.default_hooks.checkpoint.interval == iters  # iter_N.pth
    assert demo.THREADS['OMP_NUM_THREADS'] == '1'


def test_two_runs_give_identical_weights(tmp_path, toy_root):
    """Bug: an unseeded run (``seed=None``), or a non-deterministic kernel,
    makes the README's table unreproducible."""
    weights = []
    for run in ('a', 'b'):
        work = str(tmp_path / run)
        res = run_tool([
            'tools/train.py', demo.BASELINE, '--work-dir', work,
            '--cfg-options', *data_root_cli(toy_root), 'train_cfg.max_iters=3',
            'train_cfg.val_interval=3', 'default_hooks.checkpoint.interval=3'
        ],
                       env=demo.THREADS)
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
        weights.append(
            load_checkpoint_file(osp.join(work, 'iter_3.pth'))['state_dict'])
    assert weights[0].keys() == weights[1].keys()
    changed = [
        k for k in weights[0] if not torch.equal(weights[0][k], weights[1][k])
    ]
    assert not changed, changed[:5]


# Issue 20, item 4: the table differs by CPU capability; the demo says
# whether its numbers are inside the band measured across capabilities.
def _table(row):
    return dict(zip(demo.ARMS, row[1:]))


def _stack(capability='AVX2', caps=None, version=demo.MEASURED_TORCH):
    return dict(capability=capability, caps=caps or {}, torch=version)


def test_every_measured_table_is_inside_the_band():
    # Bug: a band that is one machine's table (an exact comparison), or
    # too narrow for the capabilities measured, calls a working install on
    # another CPU broken.
    assert len(demo.MEASURED) >= 4
    for row in demo.MEASURED:
        lines, inside = demo.judge(_table(row), _stack('AVX512'))
        assert inside, (row, lines)
        assert lines[0].startswith('Inside the band')


@pytest.mark.parametrize('arm', ['baseline', 'control', 'seggan'])
def test_a_table_outside_the_band_is_called_an_install_problem(arm):
    # Bug: a band so wide that a broken install passes; or the message not
    # naming the arm. One arm just past the band is enough.
    lo, hi = demo.band()[arm]
    assert hi - lo < 3  # mIoU: narrow enough to mean something
    for value in (lo - 0.01, hi + 0.01):
        table = _table(demo.MEASURED[0])
        table[arm] = value
        lines, inside = demo.judge(table, _stack())
        assert not inside
        assert lines[0].startswith('OUTSIDE the band')
        assert f'{arm} {value:.2f}' in lines[0] and 'install' in lines[0]


def test_capability_and_caps_are_named(monkeypatch):
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'default')
    monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'SSE41')
    monkeypatch.delenv('MKL_ENABLE_INSTRUCTIONS', raising=False)
    stack = demo.cpu_stack()
    assert stack['capability'] == torch.backends.cpu.get_cpu_capability()
    assert stack['caps'] == dict(
        ATEN_CPU_CAPABILITY='default', ONEDNN_MAX_CPU_ISA='SSE41')
    text = demo.describe(stack)
    assert f'CPU capability {stack["capability"]} (' in text
    assert 'ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41' in text
    assert '1 thread per run' in text


def test_another_torch_is_named_with_the_band():
    # Bug: a table from another torch judged as if the band covered it.
    table = _table(demo.MEASURED[0])
    lines, inside = demo.judge(table, _stack())
    assert inside and 'measured with torch' not in lines[0]
    lines, inside = demo.judge(table, _stack(version='2.99.0'))
    assert inside
    assert 'measured with torch 2.13.0; this is torch 2.99.0' in lines[0]
    table['seggan'] = 50.0
    lines, inside = demo.judge(table, _stack(version='2.99.0'))
    assert not inside and 'this is torch 2.99.0' in lines[0]
