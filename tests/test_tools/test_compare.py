"""tools/experiments/compare.py: SegGAN against its CE-only control from a
user's own segmentor config, end to end on a tiny generated set (CPU)."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
from seggan_testing import REPO, make_toy_scenes


SCRIPT = osp.join(REPO, 'tools', 'experiments', 'compare.py')
# a plain EncoderDecoder config (no SegGAN in it)
CONFIG = 'configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py'


def _compare(work: str, data: str, *extra: str) -> list:
    return [
        sys.executable, SCRIPT, CONFIG, '--work-root', work, '--name', 'toy',
        '--seeds', '0', '1', '--gan-seeds', '0', '--baseline-iters', '3',
        '--gan-iters', '2', '--finetune-iters', '2', '--cfg-options',
        f'train_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.data_preprocessor.size=[32,48]', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.logger.interval=1', *extra
    ]


def _run(cmd: list, ok: bool = True) -> subprocess.CompletedProcess:
    env = dict(__import__('os').environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, env=env)
    if ok:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    """One finished comparison: (command, its output, data root)."""
    tmp = tmp_path_factory.mktemp('compare')
    data = make_toy_scenes(str(tmp / 'toy'), 8, 4, (32, 48), 0)
    cmd = _compare(str(tmp / 'work'), data)
    return cmd, _run(cmd), data


def _record(cmd: list) -> tuple:
    root = osp.join(cmd[cmd.index('--work-root') + 1], 'toy')
    with open(osp.join(root, 'protocol.json')) as f:
        return root, json.load(f)


def _phase2_weights(model) -> list:
    """The phase-2 content and adversarial weights (loss modules or the
    older scalar keys)."""
    return [
        model[f'phase2_{k}_loss']['loss_weight']
        if f'phase2_{k}_loss' in model else model[f'{k}_weight']
        for k in ('content', 'adv')
    ]


def test_derives_runs_pairs_and_prints_the_verdict(finished):
    """Bugs: a derived run that is not SegGAN (no phase hook, the user's
    segmentor config trained again), a control with GAN terms, arms not
    started from the baseline and phase 1, a verdict that is not the paired
    difference, a rerun that trains again."""
    cmd, proc, _ = finished
    root, record = _record(cmd)
    stages = record['stages']
    assert set(stages) == {
        'baseline', 'gan_pretrain_gan0', 'control_seed0', 'control_seed1',
        'seggan_gan0_seed0', 'seggan_gan0_seed1'
    }
    from mmengine.config import Config
    derived = record['compare']['derived']
    gan = Config.fromfile(derived['gan_pretrain'])
    assert gan.model.type == 'SegGAN' and gan.model.gan_iters == 2
    assert gan.runner_type == 'SegGANRunner'
    assert {
        'type': 'SegGANPhaseHook',
        'gan_pretrain_only': True
    } in gan.custom_hooks
    assert gan.train_cfg.max_iters == 2
    control = Config.fromfile(derived['control'])
    assert _phase2_weights(control.model) == [0, 0]
    finetune = Config.fromfile(derived['finetune'])
    assert finetune.model.gan_iters == 0
    assert all(w > 0 for w in _phase2_weights(finetune.model))
    base = Config.fromfile(derived['baseline'])
    assert base.model.type == 'EncoderDecoder'
    assert base.train_cfg.max_iters == 3
    assert base.param_scheduler[0]['end'] == 3  # the schedule shortened
    base_ckpt = stages['baseline']['checkpoint']
    gan_ckpt = stages['gan_pretrain_gan0']['checkpoint']
    for arm in ('control_seed1', 'seggan_gan0_seed1'):
        attempt = stages[arm]['train_attempts'][0]['cmd']
        assert f'load_from={base_ckpt}' in attempt
        assert f'model.generator.init_cfg.checkpoint={gan_ckpt}' in attempt
        assert stages[arm]['max_iters'] == 2
    diffs = [
        stages[f'seggan_gan0_seed{s}']['metrics']['mIoU'] -
        stages[f'control_seed{s}']['metrics']['mIoU'] for s in (0, 1)
    ]
    mean = sum(diffs) / 2
    std = (sum((d - mean)**2 for d in diffs))**0.5
    line = [x for x in proc.stdout.splitlines() if x.startswith('Verdict')]
    assert line == [record['verdict']]
    m = re.fullmatch(
        r'Verdict: SegGAN - control = ([+-]\d+\.\d\d) ± (\d+\.\d\d) mIoU '
        r'\(n=2 pairs; SegGAN higher in (\d), lower in (\d), equal in (\d)\)'
        r'\.', line[0])
    assert m, line
    assert float(m.group(1)) == pytest.approx(mean, abs=0.006)
    assert float(m.group(2)) == pytest.approx(std, abs=0.006)
    signs = [round(d, 2) for d in diffs]
    assert [int(m.group(i)) for i in (3, 4, 5)] == [
        sum(d > 0 for d in signs),
        sum(d < 0 for d in signs),
        sum(d == 0 for d in signs)
    ]
    assert '| seggan | 2 | 0/0, 0/1 |' in proc.stdout  # the arm table
    assert osp.getsize(osp.join(root, 'curves.png')) > 5000
    # a rerun trains and tests nothing
    again = _run(cmd)
    assert 'tools/train.py' not in again.stdout
    assert 'tools/test.py' not in again.stdout
    assert again.stdout.count(': done (') == 6
    assert record['verdict'] in again.stdout


def test_with_a_trained_checkpoint_the_baseline_is_not_trained(
        finished, tmp_path):
    """--checkpoint: the arms start from the user's checkpoint, which is
    tested as the baseline and never trained again."""
    cmd, _, data = finished
    _, record = _record(cmd)
    ckpt = record['stages']['baseline']['checkpoint']
    proc = _run(
        _compare(str(tmp_path / 'w'), data, '--checkpoint', ckpt) +
        ['--dry-run'])
    names = [
        line.split('] ', 1)[1].split(':', 1)[0]
        for line in proc.stdout.splitlines() if line.startswith('[toy] ')
    ]
    assert 'baseline' not in names and 'baseline/test' in names
    assert proc.stdout.count(f'load_from={ckpt}') == 4
    # --gan-checkpoint: phase 1 is not trained either; every arm's G and D
    gan = record['stages']['gan_pretrain_gan0']['checkpoint']
    proc = _run(
        _compare(str(tmp_path / 'w'), data, '--checkpoint', ckpt,
                 '--gan-checkpoint', gan) + ['--dry-run'])
    assert not [
        line for line in proc.stdout.splitlines()
        if line.startswith('[toy] gan_pretrain')
    ]
    assert proc.stdout.count(f'generator.init_cfg.checkpoint={gan}') == 4
    assert f'tools/test.py {tmp_path}' not in proc.stdout  # (a dry run)
    assert not (tmp_path / 'w').exists()


def test_a_segmentor_that_is_no_encoder_decoder_is_refused(tmp_path):
    """A SegGAN config given as the user's segmentor: named, refused."""
    proc = _run([
        sys.executable, SCRIPT, 'configs/seggan_toy.py', '--work-root',
        str(tmp_path), '--dry-run'
    ],
                ok=False)
    assert proc.returncode != 0
    assert "model.type is 'SegGAN'" in proc.stderr
    assert 'Give the segmentor config' in proc.stderr


def test_changed_data_reruns_the_tests_and_refuses_the_training(finished):
    """Bugs (measured): after the test images were changed, a rerun
    reported every stage done with the old mIoU; after the training images
    were changed, the trained stages were reused. Now a changed test set
    tests every segmentor again, a changed training set refuses, naming
    the data. (Last in the module: it changes the fixture's data.)"""
    import cv2
    cmd, _, data = finished
    root, before = _record(cmd)
    val = osp.join(data, 'img_dir', 'val')
    name = sorted(__import__('os').listdir(val))[0]
    img = cv2.imread(osp.join(val, name))
    cv2.imwrite(osp.join(val, name), 255 - img)
    proc = _run(cmd)
    assert 'tools/train.py' not in proc.stdout
    assert proc.stdout.count('tools/test.py') == 5
    assert proc.stdout.count('tested again') == 5
    assert 'data of test_dataloader' in proc.stdout
    _, after = _record(cmd)
    assert after['stages']['control_seed0']['retested_because']
    # the first test's result is kept aside, not overwritten
    assert osp.isfile(
        osp.join(root, 'control_seed0', 'test', 'metrics-set-aside-1.json'))
    train = osp.join(data, 'img_dir', 'train')
    name = sorted(__import__('os').listdir(train))[0]
    img = cv2.imread(osp.join(train, name))
    cv2.imwrite(osp.join(train, name), 255 - img)
    proc = _run(cmd, ok=False)
    assert proc.returncode != 0
    assert 'Stage baseline' in proc.stderr
    assert 'data of train_dataloader' in proc.stderr
    assert 'tools/train.py' not in proc.stdout
