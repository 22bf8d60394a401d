"""The reproduction protocol end to end on a tiny ToyScenes set (CPU)."""
import json
import os
import os.path as osp
import subprocess
import sys

import mmseg_seggan  # noqa: F401
from mmseg_seggan.datasets import make_toy_scenes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'experiments', 'run_protocol.py')
TOY = 'configs/{}_deeplabv3_r18-d16_1xb8-{}_toy-96x128.py'


def _protocol(work_root: str, data: str) -> list:
    return [
        sys.executable, SCRIPT, 'toy', '--work-root', work_root, '--baseline',
        'configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-'
        '96x128.py', '--gan-pretrain',
        TOY.format('seggan/seggan-gan-pretrain', '300it'), '--finetune',
        TOY.format('seggan/seggan-finetune', '300it'), '--control',
        TOY.format('seggan/seggan-finetune-control', '300it'), '--seeds', '1',
        '--gan-seed', '3', '--baseline-iters', '3', '--gan-iters', '2',
        '--finetune-iters', '2', '--nice', '0', '--threads', '1',
        '--cfg-options', f'train_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.data_preprocessor.size=[32,48]', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.logger.interval=1'
    ]


def _run(cmd: list) -> tuple:
    """Run the protocol command; (its root, its protocol.json record)."""
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    root = osp.join(cmd[cmd.index('--work-root') + 1], 'toy')
    with open(osp.join(root, 'protocol.json')) as f:
        return root, json.load(f)


def _toy_protocol(tmp_path) -> list:
    """The protocol command on a fresh tiny ToyScenes set."""
    data = make_toy_scenes(str(tmp_path / 'toy'), 8, 4, (32, 48), 0)
    return _protocol(str(tmp_path / 'work'), data)


def test_run_protocol_end_to_end_and_resume(tmp_path):
    cmd = _toy_protocol(tmp_path)
    root, record = _run(cmd)
    stages = record['stages']
    assert set(stages) == {
        'baseline', 'gan_pretrain', 'control_seed1', 'seggan_seed1'
    }
    # Both arms start from the same phase-1 checkpoint, which started from
    # the baseline's.
    assert stages['gan_pretrain']['train']['cmd'].count(
        'load_from=' + stages['baseline']['checkpoint']) == 1
    for arm in ('control_seed1', 'seggan_seed1'):
        assert 'load_from=' + stages['gan_pretrain']['checkpoint'] in stages[
            arm]['train']['cmd']
        assert osp.isfile(stages[arm]['checkpoint'])
        assert stages[arm]['max_iters'] == 2
        assert osp.isfile(stages[arm]['config_dump'])
    assert 'randomness.seed=1' in stages['seggan_seed1']['train']['cmd']
    # --gan-seed changes the phase-1 run only.
    assert 'randomness.seed=3' in stages['gan_pretrain']['train']['cmd']
    assert 'randomness.seed=0' in stages['baseline']['train']['cmd']
    assert record['seeds'] == dict(base=0, gan=3, arms=[1])
    metrics = stages['seggan_seed1']['metrics']
    assert {'aAcc', 'mIoU', 'mAcc', 'per_class'} <= set(metrics)
    assert len(metrics['per_class']) == 6
    summary = record['summary']
    assert summary['control']['mIoU']['n'] == 1
    assert summary['seggan']['seeds'] == [1]
    assert summary['baseline']['iters'] == 3
    env = record['environment']
    assert {'torch', 'mmengine', 'mmseg', 'cpu', 'nproc'} <= set(env)
    assert osp.isfile(osp.join(root, 'summary.md'))
    # A rerun finds every output and trains nothing.
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'tools/train.py' not in again.stdout
    assert again.stdout.count(': done (') == 4
    # An ablation arm added later reuses baseline and phase 1 and keeps the
    # record of the first invocation's arms.
    variant = cmd + ['--variant', 'w0', 'model.adv_weight=0']
    proc = subprocess.run(variant, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('tools/train.py') == 1  # only the new arm
    with open(osp.join(root, 'protocol.json')) as f:
        record = json.load(f)
    assert 'model.adv_weight=0' in record['stages']['seggan-w0_seed1'][
        'train']['cmd']
    assert record['summary']['seggan-w0']['overrides'] == [
        'model.adv_weight=0'
    ]
    assert set(
        record['summary']) == {'baseline', 'control', 'seggan', 'seggan-w0'}
    assert len(record['invocations']) == 3
    bad = subprocess.run(
        cmd + ['--variant', 'x y'], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and '--variant takes a NAME' in bad.stderr


def test_run_protocol_resumes_an_interrupted_stage(tmp_path):
    """A stage killed half-way resumes from its own last checkpoint.

    mmengine resumes from ``load_from`` when it is given with ``--resume``;
    the protocol passes the previous stage's checkpoint as ``load_from``, so
    a resumed stage would restart from phase 1 (or fail on a baseline's
    single-optimizer state) unless the protocol drops it.
    """
    cmd = _toy_protocol(tmp_path) + ['default_hooks.checkpoint.interval=1']
    cmd[cmd.index('--baseline-iters') + 1] = '2'
    root, _ = _run(cmd)
    for stage, prev in (('gan_pretrain', 'baseline'),
                        ('seggan_seed1', 'gan_pretrain')):
        work = osp.join(root, stage)
        os.remove(osp.join(work, 'iter_2.pth'))  # killed after iteration 1
        with open(osp.join(work, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(work, 'iter_1.pth'))
    stages = _run(cmd)[1]['stages']
    for stage in ('gan_pretrain', 'seggan_seed1'):
        train_cmd = stages[stage]['train']['cmd']
        assert '--resume' in train_cmd and 'load_from=' not in train_cmd
        assert osp.isfile(osp.join(root, stage, 'iter_2.pth'))
        with open(osp.join(root, stage, 'train.out')) as f:
            log = f.read()
        assert 'resumed epoch: 0, iter: 1' in log, log[-2000:]
        assert 'Iter(train) [2/2]' in log


def test_run_protocol_gan_seeds_share_one_control(tmp_path):
    """--gan-seeds: phase 1 per seed, SegGAN on each, one shared control.

    The control is run once per phase-2 seed because phase 1 leaves the
    segmentor bit-identical (checked here on the two phase-1 checkpoints);
    every phase-1 seed's SegGAN run is paired with it.
    """
    import torch
    cmd = _toy_protocol(tmp_path)
    at = cmd.index('--gan-seed')
    cmd[at:at + 2] = ['--gan-seeds', '0', '1']
    _, record = _run(cmd)
    stages = record['stages']
    assert set(stages) == {
        'baseline', 'gan_pretrain_gan0', 'gan_pretrain_gan1',
        'control_gan0_seed1', 'seggan_gan0_seed1', 'seggan_gan1_seed1'
    }
    assert 'randomness.seed=1' in stages['gan_pretrain_gan1']['train']['cmd']
    assert 'load_from=' + stages['gan_pretrain_gan1']['checkpoint'] in stages[
        'seggan_gan1_seed1']['train']['cmd']
    sd = [
        torch.load(stages[f'gan_pretrain_gan{g}']['checkpoint'],
                   map_location='cpu', weights_only=True)['state_dict']
        for g in (0, 1)
    ]
    seg = [k for k in sd[0] if k.startswith(('backbone.', 'decode_head.'))]
    gen = [k for k in sd[0] if k.startswith('generator.')]
    assert seg and all(torch.equal(sd[0][k], sd[1][k]) for k in seg)
    assert not all(torch.equal(sd[0][k], sd[1][k]) for k in gen)
    summary = record['summary']
    assert summary['seggan']['gan_seeds'] == [0, 1]
    assert summary['seggan']['paired']['n'] == 2
    control = stages['control_gan0_seed1']['metrics']['mIoU']
    assert summary['seggan']['paired']['values'] == [
        round(stages[f'seggan_gan{g}_seed1']['metrics']['mIoU'] - control, 2)
        for g in (0, 1)
    ]
