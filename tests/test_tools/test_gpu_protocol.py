"""tools/experiments/run_gpu_protocol.py: the GPU protocol, checked on the
CPU (the plan, the derived options, and a smoke run of every stage)."""
import hashlib
import json
import os.path as osp
import shutil

import pytest
from seggan_testing import import_tool, run_tool

gpu = import_tool('tools/experiments/run_gpu_protocol.py')

# GFLOP per iteration at batch 8 and per test image, Lite0: Stanford at
# 240x320 as counted by benchmark_seggan.py, CamVid at 360x480 scaled by
# its 2.25x pixels.
FLOPS = {
    'stanford-bg': dict(ce=73.2, phase1=92.6, phase2=118.0, infer=3.2),
    'camvid': dict(ce=164.8, phase1=208.4, phase2=265.4, infer=7.2)
}
TESTS = {'stanford-bg': 115, 'camvid': 101}


def _plan(**kw):
    args = dict(
        flops=FLOPS,
        n_seeds=3,
        budget_s=540,
        peak_tflops=790,
        utilization=0.05,
        images_per_s=14 * 150,
        batch=8,
        startup_s=25,
        test_images=TESTS,
        gan_iters=20000,
        max_iters=20000)
    args.update(kw)
    return gpu.plan_iterations(**args)


def test_plan_gives_phase1_the_paper_iterations_and_fits_the_budget():
    """Bugs: a plan over budget (the estimate above 540 s), phase 1 cut
    though it fits, or the seeds' phase-2 runs left out of the cost."""
    plan = _plan()
    assert plan['gan_pretrain'] == 20000
    assert plan['estimate_s'] <= 0.85 * 540
    assert 0 < plan['finetune'] == plan['baseline'] < 20000
    # Longer than that does not fit; more seeds leave fewer iterations.
    over = _plan(max_iters=plan['finetune'] + 200, n_seeds=3)
    assert over['finetune'] <= plan['finetune'] + 1
    assert _plan(n_seeds=5)['finetune'] < plan['finetune']
    # The GPU work of every run the plan schedules, counted here on its
    # own, fits the budget at the assumed rate (data loading aside).
    for seeds in (1, 3, 5):
        p = _plan(n_seeds=seeds, images_per_s=1e9)
        work = sum(f['ce'] * p['baseline'] + f['phase1'] * p['gan_pretrain'] +
                   seeds * p['finetune'] * (f['ce'] + f['phase2'])
                   for f in FLOPS.values())
        assert work / (790e3 * 0.05) + 4 * 25 <= 0.85 * 540


def test_plan_shortens_phase1_only_when_it_cannot_fit():
    """At a tenth of the utilization 20k phase-1 iterations would take more
    than half the budget: fewer, still within it."""
    plan = _plan(utilization=0.005)
    assert 0 < plan['gan_pretrain'] < 20000
    assert plan['estimate_s'] <= 0.85 * 540
    with pytest.raises(ValueError, match='budget'):
        _plan(budget_s=60)


def test_options_read_the_raw_stanford_copy_and_camvid_at_full_size(tmp_path):
    """Bugs: the shared Stanford copy's own 572/143 split files taken for
    the paper's 600/115 (its splits/ has no test.txt), CamVid trained at
    the configs' half size, or validation keys set on a phase-2 config that
    has none (mmengine would fail on a None loader)."""
    shared = tmp_path / 'stanford'
    (shared / 'splits').mkdir(parents=True)
    (shared / 'splits' / 'train.txt').write_text('a\n')
    assert gpu.raw_stanford_layout(str(shared))
    (shared / 'splits' / 'test.txt').write_text('b\n')
    (shared / 'labels').mkdir()
    (shared / 'labels' / 'b.png').write_bytes(b'')
    assert not gpu.raw_stanford_layout(str(shared))
    spec = gpu.DATASETS['stanford-bg']
    opts = gpu.stage_options(spec['baseline'], '/data/sb', spec['crop'],
                             spec['scale'], 8, 2, True, None)
    assert 'train_dataloader.dataset.split=train' in opts
    assert 'test_dataloader.dataset.split=test' in opts
    assert 'train_dataloader.dataset.ann_file=' in opts
    spec = gpu.DATASETS['camvid']
    base = gpu.stage_options(spec['baseline'], '/data/cv', spec['crop'],
                             spec['scale'], 8, 2, False, None)
    assert 'model.data_preprocessor.size=[360,480]' in base
    # (the pipelines: load, load masks, check, resize, crop ...; test: load,
    # convert to BGR, resize ...)
    assert 'train_dataloader.dataset.pipeline.3.scale=(480,360)' in base
    assert 'train_dataloader.dataset.pipeline.4.crop_size=(360,480)' in base
    assert 'test_dataloader.dataset.pipeline.2.scale=(480,360)' in base
    ft = gpu.stage_options(spec['seggan'], '/data/cv', spec['crop'],
                           spec['scale'], 8, 2, False, None)
    assert not any(o.startswith('val_dataloader') for o in ft)
    bf16 = gpu.precision_options(spec['seggan'], 'bf16')
    for net in ('segmentor', 'generator', 'discriminator'):
        assert f'optim_wrapper.{net}.dtype=bfloat16' in bf16


def test_data_workers_follow_how_many_stages_run_at_once():
    """Bug: one worker per process for every stage (14 processes' share):
    the two baselines and phase 1 would load 2 images at a time, far below
    the rate the plan assumed, and the 20k phase-1 iterations would not
    fit."""
    args = gpu.parse_args(['--cores', '16', '--seeds', '0', '1', '2'])
    proto = gpu.GPUProtocol.__new__(gpu.GPUProtocol)
    proto.args = args
    assert 'train_dataloader.num_workers=7' in proto.train_workers(
        'gan_pretrain')
    assert 'train_dataloader.num_workers=1' in proto.train_workers(
        'seggan_seed0')


def _smoke(work, *extra):
    return run_tool([
        'tools/experiments/run_gpu_protocol.py', '--smoke', '--datasets',
        'camvid', '--work-root',
        str(work), *extra
    ],
                    timeout=900)


def _md5s(work) -> dict:
    """The md5 of every checkpoint under the work root."""
    return {
        str(p.relative_to(work)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(work.rglob('*.pth'))
    }


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    """One smoke run of the protocol (the tests below rerun on its root,
    each leaving every stage done)."""
    work = tmp_path_factory.mktemp('gpu') / 'work'
    res = _smoke(work)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    record = json.loads((work / 'protocol.json').read_text())
    assert all(
        len(s['train_attempts']) == 1 for s in record['stages'].values())
    return work


def _attempts(work) -> dict:
    record = json.loads((work / 'protocol.json').read_text())
    return {
        name: len(stage['train_attempts'])
        for name, stage in record['stages'].items()
    }


def test_smoke_run_trains_and_tests_every_stage(smoke):
    """The whole protocol on generated CamVid-layout data, 2 iterations per
    stage, one seed: each stage starts from the previous one's checkpoint,
    each arm is tested, and the record and table are written. Bugs: phase
    2 not started from phase 1 (load_from), a stage's metrics missing, no
    versions/device/precision in the record."""
    work = smoke
    record = json.loads((work / 'protocol.json').read_text())
    stages = record['stages']
    assert set(stages) == {
        'camvid/baseline', 'camvid/gan_pretrain', 'camvid/control_seed0',
        'camvid/seggan_seed0'
    }

    def cmd(name):
        return stages[f'camvid/{name}']['train_attempts'][0]['cmd']

    gan = str(work / 'camvid' / 'gan_pretrain' / 'iter_2.pth')
    base = str(work / 'camvid' / 'baseline' / 'iter_2.pth')
    assert f'load_from={base}' in cmd('gan_pretrain')
    for arm in ('control_seed0', 'seggan_seed0'):
        assert f'load_from={gan}' in cmd(arm)
        # the stage is identified by the checkpoint it started from
        inputs = stages[f'camvid/{arm}']['identity']['inputs']
        assert inputs['load_from']['sha256'] == stages['camvid/gan_pretrain'][
            'sha256']
    assert 'model.content_weight' not in cmd('seggan_seed0')
    for name in ('baseline', 'control_seed0', 'seggan_seed0'):
        metrics = stages[f'camvid/{name}']['metrics']
        assert set(metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert 'metrics' not in stages['camvid/gan_pretrain']  # no segmentor
    env = record['environment']
    for key in ('torch', 'mmengine', 'mmseg', 'mmseg_seggan', 'device',
                'capability'):
        assert env[key]
    assert record['precision'] == 'fp32'  # CPU: bf16 only with --precision
    flops = record['plan']['flops_gflop_per_iter']['camvid']
    assert flops['phase2'] > flops['ce'] > 0
    assert record['invocations'][0]['plan']['finetune'] == 2
    table = (work / 'gpu_protocol.md').read_text()
    assert '| camvid | seggan | 1 |' in table
    assert osp.isfile(work / 'camvid' / 'seggan_seed0' / 'iter_2.pth')


def test_a_rerun_trains_nothing(smoke):
    """Bug (the old runner): a rerun on the same work root trained and
    tested every stage again into the same folders (new checkpoints)."""
    before, attempts = _md5s(smoke), _attempts(smoke)
    assert len(before) == 4
    res = _smoke(smoke)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert 'tools/train.py' not in res.stdout
    assert 'tools/test.py' not in res.stdout
    assert res.stdout.count(': done (') == 4
    assert _md5s(smoke) == before
    assert _attempts(smoke) == attempts  # no attempt added
    record = json.loads((smoke / 'protocol.json').read_text())
    assert record['within_budget'] is None  # not this invocation's stages
    events = (smoke / 'events.jsonl').read_text().splitlines()
    assert sum(json.loads(e)['event'] == 'invocation' for e in events) >= 2


def test_a_rerun_with_another_plan_refuses_and_keeps_the_old(smoke):
    """Bug (the old runner): a rerun with another plan (here --iters 3)
    retrained into the folders of the old one (its checkpoints kept beside
    the new ones), or, had it stopped half-way, left the old stages'
    results in the record as if they were the new plan's."""
    before = _md5s(smoke)
    path = smoke / 'protocol.json'
    record = path.read_text()
    res = _smoke(smoke, '--iters', '3')
    assert res.returncode != 0
    assert 'Stage camvid/baseline' in res.stderr
    assert 'max_iters=3' in res.stderr and 'max_iters=2' in res.stderr
    assert 'tools/train.py' not in res.stdout
    assert _md5s(smoke) == before
    new, old = json.loads(path.read_text()), json.loads(record)
    assert new['plan'] == old['plan'] and new['stages'] == old['stages']
    assert new['invocations'][-1]['plan']['forced_iters'] == 3


def test_every_attempts_log_is_kept(smoke):
    """Bug (the old runner): every run wrote ``train.out`` / ``test.out``
    over the last attempt's. A stage killed before it finished is run
    again; its first attempt's log stays."""
    for name in ('baseline', 'gan_pretrain', 'control_seed0', 'seggan_seed0'):
        assert (smoke / 'camvid' / name / 'train-1.out').is_file()
        assert not (smoke / 'camvid' / name / 'train.out').exists()
    assert (smoke / 'camvid' / 'baseline' / 'test' / 'test-1.out').is_file()
    # as if killed before it saved: no checkpoint, no recorded output
    work = smoke / 'camvid' / 'seggan_seed0'
    first = (work / 'train-1.out').read_text()
    (work / 'iter_2.pth').unlink()
    (work / 'last_checkpoint').unlink()
    stage = json.loads((work / 'stage.json').read_text())
    del stage['output_sha256']
    (work / 'stage.json').write_text(json.dumps(stage))
    shutil.rmtree(work / 'test')  # its test was of the old checkpoint
    res = _smoke(smoke)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert res.stdout.count('tools/train.py') == 1
    assert (work / 'train-1.out').read_text() == first
    assert 'Saving checkpoint at 2 iterations' in (work /
                                                   'train-2.out').read_text()
    assert (work / 'iter_2.pth').is_file()
    record = json.loads((smoke / 'protocol.json').read_text())
    attempts = record['stages']['camvid/seggan_seed0']['train_attempts']
    assert [osp.basename(a['log'])
            for a in attempts] == ['train-1.out', 'train-2.out']
    assert 'mIoU' in record['stages']['camvid/seggan_seed0']['metrics']
