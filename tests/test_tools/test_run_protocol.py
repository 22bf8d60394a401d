"""The reproduction protocol on a tiny ToyScenes set (CPU): end to end,
resume, and every way a rerun could report a stale stage."""
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import pytest

import mmseg_seggan  # noqa: F401
from seggan_testing import make_toy_scenes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))
from protocol.records import write_record  # noqa: E402

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
        '--gan-seeds', '3', '--baseline-iters', '3', '--gan-iters', '2',
        '--finetune-iters', '2', '--nice', '0', '--threads', '1',
        '--cfg-options', f'train_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.data_preprocessor.size=[32,48]', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=3'
    ]


def _run(cmd: list, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if ok:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _record(cmd: list) -> tuple:
    root = osp.join(cmd[cmd.index('--work-root') + 1], 'toy')
    with open(osp.join(root, 'protocol.json')) as f:
        return root, json.load(f)


def _tool(name: str):
    """A script of tools/experiments, imported as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', 'experiments', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _md5(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    """One finished protocol run (the tests below copy it)."""
    tmp = tmp_path_factory.mktemp('protocol')
    data = make_toy_scenes(str(tmp / 'toy'), 8, 4, (32, 48), 0)
    cmd = _protocol(str(tmp / 'work'), data)
    _run(cmd)
    return cmd


def _copy(finished: list, tmp_path) -> list:
    """The finished run's work root copied, and its command pointed at it."""
    src = finished[finished.index('--work-root') + 1]
    dst = str(tmp_path / 'work')
    shutil.copytree(src, dst)
    cmd = list(finished)
    cmd[cmd.index('--work-root') + 1] = dst
    root = osp.join(dst, 'toy')
    # paths in the record and the identities are of the original root
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name in ('protocol.json', 'stage.json', 'last_checkpoint') \
                    or name.endswith('.py'):  # mmengine's config dumps
                path = osp.join(dirpath, name)
                with open(path) as f:
                    text = f.read()
                with open(path, 'w') as f:
                    f.write(text.replace(osp.join(src, 'toy'), root))
    path = osp.join(root, 'protocol.json')  # moved by the protocol's hand
    with open(path) as f:
        write_record(json.load(f), path, indent=1)
    return cmd


def test_end_to_end_and_a_rerun_trains_nothing(finished):
    root, record = _record(finished)
    stages = record['stages']
    assert set(stages) == {
        'baseline', 'gan_pretrain_gan3', 'control_seed1', 'seggan_gan3_seed1'
    }
    base_ckpt = stages['baseline']['checkpoint']
    gan_ckpt = stages['gan_pretrain_gan3']['checkpoint']
    # phase 1 does not wait for the baseline: it loads nothing
    assert 'load_from=' not in stages['gan_pretrain_gan3']['train_attempts'][
        0]['cmd']
    # both arms start from the baseline segmentor and phase 1's G and D
    for arm in ('control_seed1', 'seggan_gan3_seed1'):
        cmd = stages[arm]['train_attempts'][0]['cmd']
        assert f'load_from={base_ckpt}' in cmd
        assert f'model.generator.init_cfg.checkpoint={gan_ckpt}' in cmd
        assert f'model.discriminator.init_cfg.checkpoint={gan_ckpt}' in cmd
        assert stages[arm]['max_iters'] == 2
        inputs = stages[arm]['identity']['inputs']
        assert inputs['load_from']['sha256'] == stages['baseline']['sha256']
        assert inputs['generator']['sha256'] == stages['gan_pretrain_gan3'][
            'sha256']
    assert stages['seggan_gan3_seed1']['pair_with'] == 'control_seed1'
    assert 'randomness.seed=1' in stages['seggan_gan3_seed1'][
        'train_attempts'][0]['cmd']
    assert 'randomness.seed=3' in stages['gan_pretrain_gan3'][
        'train_attempts'][0]['cmd']
    # metrics come from mmengine's JSON log, per class included
    metrics = stages['seggan_gan3_seed1']['metrics']
    assert {'aAcc', 'mIoU', 'mAcc', 'per_class'} <= set(metrics)
    assert len(metrics['per_class']) == 6
    summary = record['summary']
    assert summary['control']['mIoU']['n'] == 1
    assert summary['seggan']['paired']['values'] == [
        round(metrics['mIoU'] - stages['control_seed1']['metrics']['mIoU'], 2)
    ]
    env = record['environment']
    assert {
        'torch', 'mmengine', 'mmseg', 'cpu', 'cpu_capability',
        'threads_per_run'
    } <= set(env)
    assert record['precision'] == 'fp32'
    assert osp.isfile(osp.join(root, 'summary.md'))
    # a rerun finds every stage done and trains nothing
    again = _run(finished)
    assert 'tools/train.py' not in again.stdout
    assert again.stdout.count(': done (') == 4
    with open(osp.join(root, 'events.jsonl')) as f:
        events = [json.loads(line) for line in f]
    assert sum(e['event'] == 'invocation' for e in events) == 2


def test_variant_with_other_overrides_refuses_and_keeps_the_old(
        finished, tmp_path):
    """Rerun with ``--variant w`` of other overrides: never relabel."""
    cmd = _copy(finished, tmp_path)
    _run(cmd + ['--variant', 'w', 'model.adv_weight=0'])
    root, record = _record(cmd)
    ckpt = record['stages']['seggan-w_gan3_seed1']['checkpoint']
    before = _md5(ckpt)
    proc = _run(cmd + ['--variant', 'w', 'model.adv_weight=0.5'], ok=False)
    assert proc.returncode != 0
    assert 'seggan-w_gan3_seed1' in proc.stderr
    assert 'adv_weight=0.5' in proc.stderr and 'adv_weight=0' in proc.stderr
    assert _md5(ckpt) == before
    _, record = _record(cmd)
    assert record['stages']['seggan-w_gan3_seed1']['overrides'] == [
        'model.adv_weight=0'
    ]
    assert record['summary']['seggan-w']['overrides'] == ['model.adv_weight=0']


def test_added_cfg_option_is_applied_or_refused(finished, tmp_path):
    """An added --cfg-options changes every stage: refused, named."""
    cmd = _copy(finished, tmp_path)
    at = cmd.index('--cfg-options') + 1
    proc = _run(
        cmd[:at] + ['model.decode_head.dropout_ratio=0.3'] + cmd[at:],
        ok=False)
    assert proc.returncode != 0
    assert 'Stage baseline' in proc.stderr
    assert 'dropout_ratio=0.3' in proc.stderr
    assert 'tools/train.py' not in proc.stdout


def test_changed_gan_iters_and_a_replaced_checkpoint_refuse(
        finished, tmp_path):
    cmd = _copy(finished, tmp_path)
    at = cmd.index('--gan-iters') + 1
    changed = cmd[:at] + ['3'] + cmd[at + 1:]
    proc = _run(changed, ok=False)
    assert 'Stage gan_pretrain_gan3' in proc.stderr
    assert 'max_iters=3' in proc.stderr
    # the phase-1 checkpoint replaced under the arms (another G and D)
    root, record = _record(cmd)
    gan_ckpt = record['stages']['gan_pretrain_gan3']['checkpoint']
    other = record['stages']['seggan_gan3_seed1']['checkpoint']
    shutil.copy(other, gan_ckpt)
    proc = _run(cmd, ok=False)
    assert 'of stage gan_pretrain_gan3 changed since' in proc.stderr
    # ... and a consumer whose input is no longer what it started from
    root, _ = _record(cmd)
    with open(osp.join(root, 'gan_pretrain_gan3', 'stage.json')) as f:
        rec = json.load(f)
    rec.pop('output_sha256')  # the producer check out of the way
    with open(osp.join(root, 'gan_pretrain_gan3', 'stage.json'), 'w') as f:
        json.dump(rec, f)
    proc = _run(cmd, ok=False)
    assert 'Stage control_seed1' in proc.stderr
    assert 'input generator' in proc.stderr


def _held(lock: str) -> bool:
    """Whether some process holds a kernel flock on ``lock`` (read from
    /proc/locks: probing with a flock of our own could refuse the holder)."""
    if not osp.isfile(lock):
        return False
    ino = str(os.stat(lock).st_ino)
    with open('/proc/locks') as f:
        return any(
            len(p) > 5 and p[1] == 'FLOCK' and p[5].split(':')[-1] == ino
            for p in (line.split() for line in f))


def test_two_protocols_on_one_root_the_second_is_refused(finished, tmp_path):
    cmd = _copy(finished, tmp_path)
    cmd += ['--variant', 'slow', 'model.adv_weight=0']
    first = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)
    root = osp.join(cmd[cmd.index('--work-root') + 1], 'toy')
    lock = osp.join(root, 'protocol.lock')
    # The lock file outlives its holder (a kernel flock, released, not
    # removed), and the copied root may hold one: wait until it is held.
    for _ in range(600):
        if _held(lock) or first.poll() is not None:
            break
        time.sleep(0.1)
    assert _held(lock)
    second = _run(cmd, ok=False)
    assert second.returncode != 0
    assert f'process {first.pid}' in second.stderr
    assert 'tools/train.py' not in second.stdout
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    _, record = _record(cmd)
    assert 'metrics' in record['stages']['seggan-slow_gan3_seed1']
    # the root is free again (the kernel-held lock file stays, released)
    from mmseg_seggan.utils import DirLock
    DirLock(root, name='protocol.lock').acquire().release()


def test_interrupted_stage_resumes_and_keeps_every_attempts_log(
        finished, tmp_path):
    """A stage killed half-way resumes from its own last checkpoint, and
    the killed attempt's log stays."""
    cmd = _copy(finished, tmp_path)
    root, record = _record(cmd)
    stage = 'seggan_gan3_seed1'
    work = osp.join(root, stage)
    # as if killed after iteration 1: only iter_1 exists, and the stage
    # never recorded a finished checkpoint
    ckpt = osp.join(work, 'iter_2.pth')
    os.remove(ckpt)
    with open(osp.join(work, 'stage.json')) as f:
        rec = json.load(f)
    del rec['output_sha256']
    with open(osp.join(work, 'stage.json'), 'w') as f:
        json.dump(rec, f)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_1.pth'))
    shutil.rmtree(osp.join(work, 'test'))
    with open(osp.join(work, 'train-1.out')) as f:
        first_log = f.read()
    _run(cmd)
    _, record = _record(cmd)
    attempts = record['stages'][stage]['train_attempts']
    assert len(attempts) == 2
    assert '--resume' in attempts[1]['cmd']
    assert 'load_from=' not in attempts[1]['cmd']
    with open(osp.join(work, 'train-1.out')) as f:
        assert f.read() == first_log
    with open(osp.join(work, 'train-2.out')) as f:
        assert 'resumed epoch: 0, iter: 1' in f.read()
    assert osp.isfile(ckpt)


def test_a_work_dir_of_unknown_origin_is_refused(finished, tmp_path):
    cmd = _copy(finished, tmp_path)
    root, _ = _record(cmd)
    os.remove(osp.join(root, 'baseline', 'stage.json'))
    # mmengine's config dump is the same stage: adopted
    _run(cmd)
    with open(osp.join(root, 'baseline', 'stage.json')) as f:
        assert json.load(f)['adopted_from_config_dump']
    # a dump of another config: refused, the difference named
    os.remove(osp.join(root, 'baseline', 'stage.json'))
    dump = [
        f for f in os.listdir(osp.join(root, 'baseline'))
        if f.startswith('deeplabv3_')
    ][0]
    path = osp.join(root, 'baseline', dump)
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text.replace('max_iters=3', 'max_iters=5'))
    proc = _run(cmd, ok=False)
    assert 'another config' in proc.stderr and 'max_iters=5' in proc.stderr
    os.remove(path)
    proc = _run(cmd, ok=False)
    assert 'cannot tell which' in proc.stderr


def test_stage_graph_of_seeds_variants_and_the_schedule_check(tmp_path):
    """--dry-run: which stages run, from which inputs, in which order."""
    cmd = _protocol(str(tmp_path / 'work'), str(tmp_path / 'data'))
    at = cmd.index('--gan-seeds')
    cmd[at:at + 2] = ['--gan-seeds', '0', '1']
    at = cmd.index('--seeds')
    cmd[at:at + 2] = ['--seeds', '1', '2']
    cmd += [
        '--variant', 'content', 'model.adv_weight=0', '--gan-variant', 'unet',
        'model.generator.type=SegGANUNetGenerator', '--schedule-check', '5',
        '--dry-run'
    ]
    proc = _run(cmd)
    lines = [
        line.split('] ', 1)[1].split(': ', 1)
        for line in proc.stdout.splitlines() if line.startswith('[toy] ')
    ]
    order = [name for name, _ in lines]
    cmds = dict(lines)
    trains = [n for n in order if not n.endswith('/test')]
    arms = {
        f'{arm}_seed{s}'
        for arm in ('control', 'seggan_gan0', 'seggan_gan1',
                    'seggan-content_gan0', 'seggan-content_gan1',
                    'seggan-unet_gan0')
        for s in (1, 2)
    }
    assert set(trains) == {
        'baseline', 'gan_pretrain_gan0', 'gan_pretrain_gan1',
        'gan_pretrain-unet_gan0', 'control-x5_seed1', 'seggan-x5_gan0_seed1'
    } | arms
    # every segmentor is tested (phase 1 does not train one), once
    assert sorted(n[:-5] for n in order if n.endswith('/test')) == sorted(
        n for n in trains if not n.startswith('gan_pretrain'))
    # phase 1 and the baseline start first (they need nothing)
    assert set(trains[:4]) == {
        'baseline', 'gan_pretrain_gan0', 'gan_pretrain_gan1',
        'gan_pretrain-unet_gan0'
    }
    root = str(tmp_path / 'work' / 'toy')
    gan = root + '/gan_pretrain{}/iter_2.pth'
    # one control per phase-2 seed, on the first phase-1 seed's G and D
    assert f'generator.init_cfg.checkpoint={gan.format("_gan0")}' in cmds[
        'control_seed2']
    assert f'generator.init_cfg.checkpoint={gan.format("_gan1")}' in cmds[
        'seggan_gan1_seed2']
    unet = cmds['seggan-unet_gan0_seed1']
    assert 'model.generator.type=SegGANUNetGenerator' in unet
    assert f'checkpoint={gan.format("-unet_gan0")}' in unet
    assert 'model.generator.type=SegGANUNetGenerator' in cmds[
        'gan_pretrain-unet_gan0']
    assert 'model.adv_weight=0' in cmds['seggan-content_gan1_seed1']
    # each arm is tested with the model it trained: the U-Net G's checkpoint
    # does not load into the config's plain G (shape error at test time)
    assert 'model.generator.type=SegGANUNetGenerator' in cmds[
        'seggan-unet_gan0_seed1/test']
    assert 'model.adv_weight=0' in cmds['seggan-content_gan1_seed1/test']
    assert 'SegGANUNetGenerator' not in cmds['seggan_gan0_seed1/test']
    assert 'SegGANUNetGenerator' not in cmds['control_seed1/test']
    # the schedule check: 5 x the phase-2 iterations, one seed pair
    for name in ('control-x5_seed1', 'seggan-x5_gan0_seed1'):
        assert 'train_cfg.max_iters=10' in cmds[name]
    assert not (tmp_path / 'work' / 'toy').exists()  # a dry run writes nothing


def test_arms_again_from_given_baseline_and_phase1_checkpoints(tmp_path):
    """--baseline-checkpoint / --gan-checkpoint: neither is trained again,
    every arm starts from them (e.g. the arms under --amp beside an fp32
    protocol); a missing file is refused before anything runs."""
    base, gan = tmp_path / 'base.pth', tmp_path / 'gan.pth'
    base.write_bytes(b'x')
    gan.write_bytes(b'x')
    cmd = _protocol(str(tmp_path / 'work'), str(tmp_path / 'data')) + [
        '--baseline-checkpoint',
        str(base), '--gan-checkpoint',
        str(gan), '--amp', '--dry-run'
    ]
    proc = _run(cmd)
    cmds = dict(
        line.split('] ', 1)[1].split(': ', 1)
        for line in proc.stdout.splitlines() if line.startswith('[toy] '))
    trains = {n for n in cmds if not n.endswith('/test')}
    assert trains and not {'baseline', 'gan_pretrain_gan3'} & trains
    for name in trains:
        assert f'load_from={base}' in cmds[name] and '--amp' in cmds[name]
        assert f'generator.init_cfg.checkpoint={gan}' in cmds[name]
    assert 'baseline/test' in cmds and str(base) in cmds['baseline/test']
    proc = _run(cmd[:-1] + ['--gan-checkpoint', str(tmp_path / 'no.pth'),
                            '--dry-run'], ok=False)
    assert 'no.pth: no such file' in proc.stderr


def test_summaries_and_plots_of_a_finished_run(finished, tmp_path):
    """summarize.py's tables and make_plots.py's figures from the record
    (mmengine's JSON logs, the stage names and pairings it writes)."""
    make_plots, summarize = (_tool(n) for n in ('make_plots', 'summarize'))
    root, record = _record(finished)
    work_root = osp.dirname(root)
    text = summarize.main(['toy', '--work-root', work_root])
    assert '| seggan | 2 | 3/1 |' in text
    assert '| seggan | 3 | 1 |' in text  # the paired table's row
    assert 'capability' in text
    # a second generator's phase 1 (here: the same checkpoint, renamed)
    record['stages']['gan_pretrain-unet_gan3'] = record['stages'][
        'gan_pretrain_gan3']
    shadow = tmp_path / 'shadow' / 'toy'
    shadow.mkdir(parents=True)

    def plots(rec: dict, out: str) -> list:
        # a record as the protocol writes it (with its digest)
        write_record(dict(rec), str(shadow / 'protocol.json'))
        return make_plots.main([
            'toy', '--work-root',
            str(tmp_path / 'shadow'), '--out-dir',
            str(tmp_path / out), '--num-images', '2'
        ])

    written = plots(record, 'plots')
    assert sorted(osp.basename(p) for p in written) == [
        'results_toy_curves.png', 'results_toy_generators.png',
        'results_toy_per_class.png', 'results_toy_qualitative.png'
    ]
    assert all(os.path.getsize(p) > 5000 for p in written)
    # A test pipeline that resizes the image and not the mask (CamVid's:
    # 180x240 images, 360x480 masks). Bug: G painted at the mask's size
    # and the error map failed on the size mismatch (RuntimeError).
    from mmengine.config import Config
    cfg = Config.fromfile(record['stages']['gan_pretrain_gan3']['config_dump'])
    pipeline = cfg.test_dataloader.dataset.pipeline
    pipeline.insert(2, dict(type='Resize', scale=(24, 16), keep_ratio=True))
    assert pipeline[3]['type'] == 'LoadAnnotations'  # after the Resize
    dump = str(tmp_path / 'resized_test.py')
    cfg.dump(dump)
    resized = json.loads(json.dumps(record))
    for name in ('gan_pretrain_gan3', 'gan_pretrain-unet_gan3'):
        resized['stages'][name]['config_dump'] = dump
    written = plots(resized, 'resized')
    assert 'results_toy_generators.png' in map(osp.basename, written)
    # A partial run (arms not started, one G): the figures its stages
    # allow. Bug: plot_per_class / plot_qualitative raised IndexError /
    # KeyError on a run without tested arms, so nothing was drawn.
    partial = dict(
        record,
        stages={
            n: v
            for n, v in record['stages'].items()
            if n.startswith(('baseline', 'gan_pretrain_'))
        })
    written = plots(partial, 'partial')
    assert sorted(osp.basename(p) for p in written) == [
        'results_toy_curves.png', 'results_toy_per_class.png'
    ]


def test_a_rerun_elsewhere_reproduces_its_start_and_pools_the_arms(
        finished, tmp_path):
    """What ``export_record.py`` is for: a finished run's work dirs are
    lost (a new machine of the same kind); the protocol runs again from
    scratch with another phase-2 seed. Its baseline and phase 1 come out
    with the same weights (seeded, one thread), so the first run's arms
    pool into its tables. Bugs: a stage that is not reproducible (an
    unseeded phase 1, a nondeterministic kernel) or a digest of the file
    rather than the weights: the merge would refuse."""
    root, _ = _record(finished)
    first = str(tmp_path / 'first.json')
    _tool('export_record').main(
        ['toy', '--work-root',
         osp.dirname(root), '--out', first])
    cmd = list(finished)
    cmd[cmd.index('--work-root') + 1] = str(tmp_path / 'again')
    cmd[cmd.index('--seeds') + 1] = '2'
    _run(cmd)
    text = _tool('summarize').main(
        ['toy', '--work-root',
         str(tmp_path / 'again'), '--merge', first])
    assert '| seggan | 2 | 3/1, 3/2 |' in text
    assert '| control | 2 | 1, 2 |' in text


def test_a_rerun_with_other_threads_refuses_and_the_record_keeps_the_truth(
        finished, tmp_path):
    """Bug (measured): a rerun with ``--threads 2`` on a finished root
    rewrote the record to say 2 threads per run, though every stage ran
    with 1. Threads are part of a stage's identity now: refused, named,
    and the record still says what the stages ran with."""
    cmd = _copy(finished, tmp_path)
    cmd[cmd.index('--threads') + 1] = '2'
    proc = _run(cmd, ok=False)
    assert proc.returncode != 0
    assert 'threads: 1 -> 2' in proc.stderr
    _, record = _record(cmd)
    assert record['environment']['threads_per_run'] == 1
    assert record['stages']['baseline']['identity']['threads'] == 1
    assert record['invocations'][-1]['threads'] == 2


def test_hand_edits_of_the_record_and_of_metrics_are_not_reported(
        finished, tmp_path):
    """Bug (measured): a protocol.json or metrics.json edited by hand was
    reported as the result. An edited record is refused (by the protocol
    and by summarize.py), naming the file; moved away, the record is
    rebuilt from the stage dirs; an edited metrics.json is tested again."""
    cmd = _copy(finished, tmp_path)
    root, record = _record(cmd)
    path = osp.join(root, 'protocol.json')
    record['stages']['seggan_gan3_seed1']['metrics']['mIoU'] = 99.0
    with open(path, 'w') as f:
        json.dump(record, f)
    proc = _run(cmd, ok=False)
    assert proc.returncode != 0
    assert 'protocol.json was changed after the protocol wrote it' in \
        proc.stderr
    with pytest.raises(RuntimeError, match='changed after'):
        _tool('summarize').main(['toy', '--work-root', osp.dirname(root)])
    os.rename(path, path + '.edited')
    _run(cmd)  # rebuilt from stage.json / metrics.json
    _, rebuilt = _record(cmd)
    miou = rebuilt['stages']['seggan_gan3_seed1']['metrics']['mIoU']
    assert miou != 99.0
    metrics = osp.join(root, 'seggan_gan3_seed1', 'test', 'metrics.json')
    with open(metrics) as f:
        edited = json.load(f)
    edited['mIoU'] = 99.0
    with open(metrics, 'w') as f:
        json.dump(edited, f)
    proc = _run(cmd)
    assert 'was changed after the test wrote it' in proc.stdout
    assert proc.stdout.count('tools/test.py') == 1
    _, record = _record(cmd)
    assert record['stages']['seggan_gan3_seed1']['metrics']['mIoU'] == miou


def test_a_truncated_record_is_named_and_leaves_no_lock(finished, tmp_path):
    """Bug (measured): a truncated protocol.json stopped the run with a
    bare JSONDecodeError and left the work root locked."""
    from protocol.records import RecordError
    from protocol.seggan_protocol import main

    from mmseg_seggan.utils import DirLock
    cmd = _copy(finished, tmp_path)
    root, _ = _record(cmd)
    path = osp.join(root, 'protocol.json')
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text[:len(text) // 2])
    with pytest.raises(RecordError, match='not a complete JSON record'):
        main(cmd[2:], repo=REPO)
    lock = DirLock(root, name='protocol.lock')
    lock.acquire()  # free again
    lock.release()


def test_a_stage_run_by_other_code_is_refused(finished, tmp_path):
    """Bug (measured): after a code commit a rerun reported every stage
    done with the old results. Here the baseline's record says it ran with
    other package sources (as after an edit of the package): refused, the
    code named."""
    cmd = _copy(finished, tmp_path)
    root, _ = _record(cmd)
    path = osp.join(root, 'baseline', 'stage.json')
    with open(path) as f:
        rec = json.load(f)
    spec = rec['spec']
    spec.setdefault('code', {})['sources_sha256'] = '0' * 64
    spec.pop('fingerprint')
    spec['fingerprint'] = hashlib.sha256(
        json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    with open(path, 'w') as f:
        json.dump(rec, f)
    proc = _run(cmd, ok=False)
    assert 'Stage baseline' in proc.stderr
    assert 'code sources_sha256: 000000000000...' in proc.stderr
    assert 'tools/train.py' not in proc.stdout


def test_the_code_digest_covers_every_source_file(tmp_path, monkeypatch):
    """Bug: a digest of the version alone (or of some files) would call
    an edited package the same code."""
    import mmseg_seggan
    from protocol.identity import code_digest
    pkg = tmp_path / 'pkg' / 'sub'
    pkg.mkdir(parents=True)
    (tmp_path / 'pkg' / '__init__.py').write_text('')
    (pkg / 'model.py').write_text('x = 1\n')
    monkeypatch.setattr(mmseg_seggan, '__file__',
                        str(tmp_path / 'pkg' / '__init__.py'))
    before = code_digest(str(tmp_path))
    (pkg / 'model.py').write_text('x = 2\n')
    after = code_digest(str(tmp_path))
    assert before['sources_sha256'] != after['sources_sha256']
    assert before['mmseg_seggan'] == after['mmseg_seggan']
    # the tools' shared module (config reading, runner) is code of a stage
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'seggan_launch.py').write_text('y = 1\n')
    before = code_digest(str(tmp_path))
    (tmp_path / 'tools' / 'seggan_launch.py').write_text('y = 2\n')
    assert code_digest(str(tmp_path))['sources_sha256'] != before[
        'sources_sha256']
