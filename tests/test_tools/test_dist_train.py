"""tools/dist_train.sh with 2 CPU processes (gloo) runs both phases."""
import os
import os.path as osp
import subprocess
import sys

import torch
from seggan_testing import REPO, TINY_SEGGAN, data_root_cli


def test_two_process_ddp_both_phases(tmp_path, toy_root):
    work = str(tmp_path / 'dist')
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONWARNINGS='ignore',
        PORT=str(29500 + os.getpid() % 1000),
        PYTHON=sys.executable,
        PYTHONPATH=osp.join(REPO, 'tests', 'data', 'plugins') + ':' +
        os.environ.get('PYTHONPATH', ''))
    config = tmp_path / 'dist_seggan.py'
    config.write_text(
        f'_base_ = [{TINY_SEGGAN!r}]\n'
        "custom_imports = dict(imports=['mmseg_seggan', "
        "'rank_state_dump_hook'])\n"
        "custom_hooks = [dict(type='SegGANPhaseHook', gan_iters=2),\n"
        "                dict(type='RankStateDumpHook', at_iters=(0, 2, 4))]\n"
    )
    cmd = [
        'bash',
        osp.join(REPO, 'tools', 'dist_train.sh'),
        str(config), '2', '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.val_interval=100'
    ]
    res = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'Distributed on CPU: gloo backend, rank 0 of 2' in out
    assert 'phase: 1 (gan_pretrain)' in out
    assert 'phase: 2 (seggan_finetune)' in out

    states = {
        (r, i): torch.load(osp.join(work, f'rank{r}_iter{i}.pt'))
        for r in (0, 1)
        for i in (0, 2, 4)
    }
    for i in (0, 2, 4):  # same init, and identical parameters on both ranks
        a, b = states[(0, i)]['params'], states[(1, i)]['params']
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f'{k} differs at iter {i}'
    # Per-rank BN statistics of G/D were synchronized at the phase switch.
    a, b = states[(0, 4)]['buffers'], states[(1, 4)]['buffers']
    for k in a:
        if k.startswith(('generator.', 'discriminator.')):
            assert torch.equal(a[k], b[k]), k

    def is_gan(key):
        return key.startswith(('generator.', 'discriminator.'))

    for rank in (0, 1):
        init, switch, end = (states[(rank, i)] for i in (0, 2, 4))
        gan = [k for k in init['params'] if is_gan(k)]
        seg = [k for k in init['params'] if not is_gan(k)]
        assert len(gan) > 10 and len(seg) > 10
        # Phase 1 trained every parameter of G and D, and left the segmentor
        # bit-identical, BN statistics included.
        for k in gan:
            assert not torch.equal(init['params'][k], switch['params'][k]), k
        for kind in ('params', 'buffers'):
            for k, v in init[kind].items():
                if not is_gan(k):
                    assert torch.equal(v, switch[kind][k]), k
        # Phase 2 froze G and D and trained the segmentor, backbone included.
        for k in gan:
            assert torch.equal(end['params'][k], switch['params'][k]), k
        for part in ('backbone.', 'decode_head.', 'auxiliary_head.'):
            assert any(not torch.equal(end['params'][k], switch['params'][k])
                       for k in seg if k.startswith(part)), part
