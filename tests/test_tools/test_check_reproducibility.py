"""check_reproducibility.py: reruns a stage and compares checkpoints."""
import json
import os.path as osp

import torch
from seggan_testing import import_tool

TOOL = import_tool('tools/experiments/check_reproducibility.py')
PHASE1 = ('configs/seggan/seggan-gan-pretrain_deeplabv3_r18w16-d8_1xb8-'
          '150it_toy-96x128.py')


def _ckpt(path, **tensors):
    torch.save(dict(state_dict=tensors, meta={}), path)
    return str(path)


def test_compare_finds_the_differing_tensor(tmp_path):
    a = _ckpt(tmp_path / 'a.pth', w=torch.zeros(3), b=torch.ones(2))
    same = _ckpt(tmp_path / 's.pth', w=torch.zeros(3), b=torch.ones(2))
    other = _ckpt(
        tmp_path / 'o.pth', w=torch.tensor([0., 0.5, 0.]), b=torch.ones(2))
    assert TOOL.compare(a, same) == dict(
        identical=True,
        tensors=2,
        differing_tensors=0,
        max_abs_diff=0.,
        worst_tensor=None)
    r = TOOL.compare(a, other)
    assert not r['identical'] and r['differing_tensors'] == 1
    assert r['worst_tensor'] == 'w' and r['max_abs_diff'] == 0.5
    extra = _ckpt(tmp_path / 'e.pth', w=torch.zeros(3))
    assert TOOL.compare(a, extra)['identical'] is False


def test_a_one_run_config_cut_short_says_it_is_phase1_only():
    # gan_iters (150) > --iters on a both-phases config: the short run is
    # all phase 1, which SegGANPhaseHook refuses unless told so.
    one_run = ('configs/seggan/seggan_deeplabv3_r18w16-d8_1xb8-150+100it_'
               'toy-96x128.py')
    args = TOOL.parse_args([one_run, '--iters', '2'])
    assert TOOL._phase_hook_options(args) == [
        'model.gan_iters=2', 'custom_hooks.0.gan_pretrain_only=True'
    ]


def test_a_phase1_config_cut_short_stays_phase1(tmp_path, toy_root):
    """gan_iters (150) > --iters: shortened, not refused by the hook."""
    args = TOOL.parse_args([PHASE1, '--iters', '2'])
    assert TOOL._phase_hook_options(args) == ['model.gan_iters=2']
    out = tmp_path / 'r.json'
    result = TOOL.main([
        PHASE1, '--iters', '2', '--work-dir',
        str(tmp_path / 'w'), '--json',
        str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={toy_root}',
        'train_dataloader.num_workers=0'
    ])
    assert result['same_threads']['identical'] is True
    assert result['same_threads']['tensors'] > 0
    assert json.load(open(out))['same_threads']['identical'] is True
    log = open(next(iter(
        p for p in (tmp_path / 'w' / 'a').rglob('*.log')))).read()
    assert 'phase: 1' in log and 'phase: 2' not in log
    assert osp.isfile(tmp_path / 'w' / 'b' / 'iter_2.pth')
