"""Exported protocol records and their pooling (``carried_record``)."""
import copy
import json
import os.path as osp
import sys

import pytest
import torch
from seggan_testing import REPO, import_tool

sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))
from protocol.carried_record import (
    RecordMismatchError,  # noqa: E402
    export_record,
    load_record,
    merge_records,
    weights_digest)

ENV = dict(
    git_commit='abc',
    torch='2.13.0+cpu',
    mmengine='0.10.7',
    mmseg='1.2.2',
    cpu_capability='AVX512',
    threads_per_run=1)


def _ckpt(path, scale=1.0, time='12:00'):
    torch.manual_seed(0)
    state = {'w': torch.randn(3, 4) * scale, 'b': torch.zeros(4)}
    torch.save(dict(state_dict=state, meta=dict(time=time)), str(path))
    return str(path)


def _metrics(miou):
    return dict(mIoU=miou, mAcc=miou + 10, aAcc=miou + 20)


def _arm(name, src, miou, pair_with=None, seed=1):
    stage = dict(
        seed=seed,
        max_iters=2,
        identity=dict(inputs=dict(load_from=dict(stage=src, sha256='x'))),
        metrics=_metrics(miou))
    if pair_with:
        stage['pair_with'] = pair_with
    return stage


def _record(tmp_path, tag, base_scale=1.0, seed=0, env=None):
    """A protocol record: the baseline (a checkpoint on disk), phase 1 and
    a control / SegGAN pair of phase-2 seed ``seed``."""
    d = tmp_path / tag
    d.mkdir()
    base = _ckpt(d / 'base.pth', base_scale, time=tag)
    gan = _ckpt(d / 'gan.pth', 2.0, time=tag)
    control, seggan = f'control_seed{seed}', f'seggan_gan0_seed{seed}'
    return dict(
        protocol='toy',
        precision='fp32',
        environment=dict(env or ENV),
        stages={
            'baseline':
            dict(checkpoint=base, metrics=_metrics(60.0)),
            'gan_pretrain_gan0':
            dict(checkpoint=gan),
            control:
            _arm(control, 'baseline', 61.0 + seed, seed=seed),
            seggan:
            _arm(
                seggan,
                'gan_pretrain_gan0',
                60.5 + seed,
                pair_with=control,
                seed=seed),
        })


def test_weights_digest_is_of_the_weights_not_the_file(tmp_path):
    """Bug: hashing the file (mmengine writes the time and work dir beside
    the weights, so two bit-identical runs would never match) or hashing
    names only (a changed weight would match)."""
    a = _ckpt(tmp_path / 'a.pth', time='12:00')
    b = _ckpt(tmp_path / 'b.pth', time='13:00')
    c = _ckpt(tmp_path / 'c.pth', scale=1.0 + 1e-7)
    assert open(a, 'rb').read() != open(b, 'rb').read()
    assert weights_digest(a) == weights_digest(b)
    assert weights_digest(a) != weights_digest(c)


def test_arms_of_a_reproduced_start_are_pooled(tmp_path):
    """Two sessions: each reran the baseline and phase 1 (bit-identical
    weights, other files) and trained arms of another phase-2 seed. Bug:
    the carried arms dropped, not marked, or pooled without a check."""
    here = _record(tmp_path, 'here', seed=0)
    there = export_record(_record(tmp_path, 'there', seed=1))
    merged = merge_records(here, there, 'there.json')
    stages = merged['stages']
    assert stages['control_seed1']['from_record'] == 'there.json'
    assert stages['seggan_gan0_seed1']['metrics']['mIoU'] == 61.5
    assert 'from_record' not in stages['control_seed0']
    assert merged['merged_from'] == ['there.json']
    assert 'from_record' not in here['stages'].get('control_seed1', {})

    from protocol.summary import summarize
    s = summarize(merged)
    assert s['seggan']['paired']['n'] == 2
    assert s['seggan']['paired']['values'] == [-0.5, -0.5]


def test_arms_of_another_start_are_refused(tmp_path):
    """The other record's baseline has other weights (another machine, a
    changed config): its arms started elsewhere. Bug: pooled anyway."""
    here = _record(tmp_path, 'here', seed=0)
    there = export_record(_record(tmp_path, 'there', base_scale=1.5, seed=1))
    with pytest.raises(RecordMismatchError) as e:
        merge_records(here, there, 'there.json')
    msg = str(e.value)
    assert 'control_seed1 started from baseline' in msg
    assert 'baseline: weights' in msg  # the shared stage itself differs
    assert 'seggan_gan0_seed1' not in msg  # its phase 1 does match


def test_another_machine_kind_or_thread_count_is_refused(tmp_path):
    """Bug: arms of an AVX2 machine or of 2 threads pooled with these
    (different floats: not the same runs)."""
    here = _record(tmp_path, 'here', seed=0)
    env = dict(ENV, cpu_capability='AVX2', threads_per_run=2)
    there = export_record(_record(tmp_path, 'there', seed=1, env=env))
    with pytest.raises(RecordMismatchError) as e:
        merge_records(here, there, 'there.json')
    assert "cpu_capability: 'AVX512' here, 'AVX2' there" in str(e.value)
    assert 'threads_per_run: 1 here, 2 there' in str(e.value)


def test_a_stage_tested_differently_is_refused(tmp_path):
    """Both records hold control_seed0 with other numbers. Bug: one of
    them silently kept."""
    here = _record(tmp_path, 'here', seed=0)
    there = export_record(_record(tmp_path, 'there', seed=0))
    same = merge_records(here, copy.deepcopy(there), 'there.json')
    assert same['stages']['control_seed0'] == here['stages']['control_seed0']
    there['stages']['control_seed0']['metrics']['mIoU'] = 61.3
    with pytest.raises(
            RecordMismatchError,
            match='control_seed0: tested '
            'differently \\(mIoU 61.0 vs 61.3\\)'):
        merge_records(here, there, 'there.json')


def test_a_missing_start_is_refused(tmp_path):
    """This machine has not rerun phase 1 (no checkpoint, so no digest):
    the carried SegGAN arm cannot be checked. Bug: pooled unchecked."""
    here = _record(tmp_path, 'here', seed=0)
    del here['stages']['gan_pretrain_gan0']['checkpoint']
    there = export_record(_record(tmp_path, 'there', seed=1))
    with pytest.raises(RecordMismatchError, match='have no digest here'):
        merge_records(here, there, 'there.json')


def test_export_carries_the_curves_and_summarize_pools(tmp_path):
    """The exported file holds each stage's logged scalars (so curves draw
    without the work dir) and is never replaced; ``summarize.py --merge``
    prints the pooled table. Bugs: rows not carried; an export written
    over an older one."""
    here = _record(tmp_path, 'here', seed=0)
    work = tmp_path / 'here' / 'work' / '20261203_120000' / 'vis_data'
    work.mkdir(parents=True)
    (work / 'scalars.json').write_text(
        json.dumps(dict(iter=1, loss=0.123456789)) + '\n' +
        json.dumps(dict(step=1, mIoU=60.0)) + '\n')
    here['stages']['baseline']['work_dir'] = str(tmp_path / 'here' / 'work')
    root = tmp_path / 'root' / 'toy'
    root.mkdir(parents=True)
    (root / 'protocol.json').write_text(json.dumps(here))
    export = import_tool('tools/experiments/export_record.py')
    out = str(tmp_path / 'rec.json')
    export.main(['toy', '--work-root', str(tmp_path / 'root'), '--out', out])
    rec = json.loads(open(out).read())
    assert rec['stages']['baseline']['train_rows'] == [
        dict(iter=1, loss=0.123457)
    ]
    assert rec['stages']['baseline']['val_rows'] == [dict(step=1, mIoU=60.0)]
    assert len(rec['stages']['baseline']['weights_sha256']) == 64
    before = open(out).read()
    with pytest.raises(SystemExit):
        export.main(
            ['toy', '--work-root',
             str(tmp_path / 'root'), '--out', out])
    assert open(out).read() == before

    there = export_record(_record(tmp_path, 'there', seed=1))
    other = str(tmp_path / 'there.json')
    with open(other, 'w') as f:
        json.dump(there, f)
    assert osp.isfile(other)
    merged = load_record(str(tmp_path / 'root'), 'toy', [other])
    assert 'control_seed1' in merged['stages']
    summarize = import_tool('tools/experiments/summarize.py')
    text = summarize.main(
        ['toy', '--work-root',
         str(tmp_path / 'root'), '--merge', other])
    assert '| seggan | 2 | 0/0, 0/1 |' in text
