"""Run the SegGAN reproduction protocol end to end, resumable stage by stage.

Stages (each one skipped when its output exists, so a rerun resumes)::

    baseline        tools/train.py BASELINE                -> iter_N.pth
    baseline/test   tools/test.py  BASELINE iter_N.pth     -> metrics.json
    gan_pretrain    tools/train.py GAN  load_from=baseline -> iter_G.pth
                    (phase 1 only: baseline segmentor + trained G and D)
    control_seedS   tools/train.py CONTROL  load_from=gan  -> iter_F.pth
    seggan_seedS    tools/train.py FINETUNE load_from=gan  -> iter_F.pth
    seggan-V_seedS  the same with the overrides of ``--variant V ...``
    */test          tools/test.py  ...                     -> metrics.json
    collect         summary.json + summary.md (mean +- std over seeds)

With ``--gan-seeds G1 G2 ...`` phase 1 runs once per seed
(``gan_pretrain_ganG``) and every arm runs on each of them
(``control_ganG_seedS``, ``seggan_ganG_seedS``): the spread then covers the
randomness of both phases, and each SegGAN run is paired with the control
of the same phase-1 and phase-2 seeds.

Every stage runs the product's own command line (``tools/train.py`` and
``tools/test.py``) in a subprocess. ``WORK_ROOT/<dataset>/protocol.json``
records the versions, the hardware, the thread count and niceness, the
seeds, every command with its wall time, the config dumps, checkpoints and
metrics. Work dirs and checkpoints stay under ``WORK_ROOT`` (git-ignored).

Example (the ImageNet-pre-trained protocol of ``docs/results.md``)::

    python tools/experiments/run_protocol.py stanford-bg-lite0 \
        --gan-seeds 0 1 --variant content model.adv_weight=0
    python tools/experiments/run_protocol.py camvid-lite0 \
        --gan-seeds 0 1 --variant content model.adv_weight=0

The from-scratch CPU protocol (ResNet-18, 120x160)::

    python tools/experiments/run_protocol.py camvid
    python tools/experiments/run_protocol.py stanford-bg

Ablations of the phase-2 loss on the same baseline and phase-1 GAN, e.g.
the loss weights (extra arms ``seggan-w001``, ``seggan-content``)::

    python tools/experiments/run_protocol.py camvid --seeds 0 1 \
        --variant w001 model.content_weight=0.01 model.adv_weight=0.01 \
        --variant content model.adv_weight=0

Another dataset or schedule: give the four configs and overrides, e.g.
``--baseline CFG --gan-pretrain CFG --finetune CFG --control CFG
--baseline-iters 4 --cfg-options train_dataloader.dataset.data_root=DIR``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXP = 'configs/experiments'
LITE0 = 'deeplabv3_lite0-d16_1xb8'
PRESETS = {
    # ImageNet-pre-trained DeepLabV3-Lite0 (the paper's regime).
    'stanford-bg-lite0':
    dict(
        baseline=f'configs/deeplabv3/{LITE0}-3k_stanford-bg-240x320.py',
        gan_pretrain=f'configs/seggan/seggan-gan-pretrain_{LITE0}-2000it_'
        'stanford-bg-240x320.py',
        finetune=f'configs/seggan/seggan-finetune_{LITE0}-300it_'
        'stanford-bg-240x320.py',
        control=f'configs/seggan/seggan-finetune-control_{LITE0}-300it_'
        'stanford-bg-240x320.py'),
    'camvid-lite0':
    dict(
        baseline=f'configs/deeplabv3/{LITE0}-2k_camvid-180x240.py',
        gan_pretrain=f'configs/seggan/seggan-gan-pretrain_{LITE0}-2000it_'
        'camvid-180x240.py',
        finetune=f'configs/seggan/seggan-finetune_{LITE0}-300it_'
        'camvid-180x240.py',
        control=f'configs/seggan/seggan-finetune-control_{LITE0}-300it_'
        'camvid-180x240.py'),
    'camvid':
    dict(
        baseline=f'{EXP}/deeplabv3_r18-d16_1xb4-600it_camvid-120x160.py',
        gan_pretrain=f'{EXP}/seggan-gan-pretrain_deeplabv3_r18-d16_1xb4-'
        '300it_camvid-120x160.py',
        finetune=f'{EXP}/seggan-finetune_deeplabv3_r18-d16_1xb4-150it_'
        'camvid-120x160.py',
        control=f'{EXP}/seggan-finetune-control_deeplabv3_r18-d16_1xb4-'
        '150it_camvid-120x160.py'),
    'stanford-bg':
    dict(
        baseline=f'{EXP}/deeplabv3_r18-d16_1xb4-600it_stanford-bg-120x160.py',
        gan_pretrain=f'{EXP}/seggan-gan-pretrain_deeplabv3_r18-d16_1xb4-'
        '300it_stanford-bg-120x160.py',
        finetune=f'{EXP}/seggan-finetune_deeplabv3_r18-d16_1xb4-150it_'
        'stanford-bg-120x160.py',
        control=f'{EXP}/seggan-finetune-control_deeplabv3_r18-d16_1xb4-'
        '150it_stanford-bg-120x160.py'),
}
ARMS = ('control', 'seggan')  # phase-2 arms; config keys control / finetune
# mmengine's Config.fromfile is not thread-safe (pkg_resources look-ups fail
# at random with --jobs > 1); parse one config at a time.
_CONFIG_LOCK = threading.Lock()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Baseline -> phase-1 GAN -> phase-2 arms (CE-only '
        'control and SegGAN) x seeds -> test each -> summary.')
    parser.add_argument(
        'dataset',
        help=f'name of the run ({", ".join(PRESETS)} pick their '
        'configs; any other name needs all four config flags)')
    parser.add_argument(
        '--work-root',
        default='work_dirs/protocol',
        help='where the work dirs go (default %(default)s)')
    for key in ('baseline', 'gan-pretrain', 'finetune', 'control'):
        parser.add_argument(
            f'--{key}',
            help=f'{key} config (default: the '
            'preset of the dataset)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='seeds of the phase-2 arms (default 0 1 2)')
    parser.add_argument(
        '--base-seed',
        type=int,
        default=0,
        help='seed of the baseline and phase-1 runs')
    parser.add_argument(
        '--gan-seed',
        type=int,
        help='seed of the phase-1 run only (default: --base-seed); to '
        'measure how much the result depends on one trained G and D')
    parser.add_argument(
        '--gan-seeds',
        type=int,
        nargs='+',
        help='run phase 1 once per seed and every arm on each '
        '(stages gan_pretrain_ganG, ARM_ganG_seedS); the summary then '
        'spans both phases\' randomness')
    parser.add_argument(
        '--baseline-iters',
        type=int,
        help='override the baseline iterations (and its '
        'PolyLR end)')
    parser.add_argument(
        '--gan-iters', type=int, help='override the phase-1 iterations')
    parser.add_argument(
        '--finetune-iters',
        type=int,
        help='override the phase-2 iterations of both arms')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides passed to every '
        'train.py / test.py call')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar=('NAME', 'KEY=VALUE'),
        help='an extra SegGAN arm "seggan-NAME": the finetune config with '
        'these overrides, same seeds and phase-1 checkpoint (repeatable)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP/MKL threads per run (default 1: on a '
        'shared CPU two 1-thread runs beat one 2-thread run)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='phase-2 runs in parallel (default 1)')
    parser.add_argument(
        '--nice',
        type=int,
        default=0,
        help='niceness of the runs (default 0; on a shared '
        'machine 5 keeps it responsive but starves the runs)')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the commands, run nothing')
    args = parser.parse_args(argv)
    if args.gan_seeds and args.gan_seed is not None:
        parser.error('give --gan-seed or --gan-seeds, not both')
    for variant in args.variant:
        if not re.fullmatch(r'[\w.]+', variant[0]) or len(variant) < 2 or \
                any('=' not in o for o in variant[1:]):
            parser.error('--variant takes a NAME (letters, digits, _ .) and '
                         f'KEY=VALUE overrides; got {variant}')
    preset = PRESETS.get(args.dataset, {})
    for key in ('baseline', 'gan_pretrain', 'finetune', 'control'):
        if getattr(args, key) is None:
            if key not in preset:
                parser.error(f'dataset {args.dataset!r} has no preset: give '
                             f'--{key.replace("_", "-")} CONFIG')
            setattr(args, key, preset[key])
    return args


def max_iters_of(config: str, options: List[str]) -> int:
    """``train_cfg.max_iters`` of a config after the CLI overrides."""
    import mmseg_seggan  # noqa: F401  (mmcv-lite compat + registration)
    from mmengine.config import Config, DictAction
    with _CONFIG_LOCK:
        cfg = Config.fromfile(config)
        if options:
            ns = argparse.Namespace()
            DictAction(option_strings=[], dest='o')(None, ns, options)
            cfg.merge_from_dict(ns.o)
        return int(cfg.train_cfg.max_iters)


def environment(args: argparse.Namespace) -> dict:
    """Versions and hardware, for the record."""
    import mmengine
    import mmseg
    import torch
    cpu = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            names = re.findall(r'model name\s*:\s*(.*)', f.read())
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'],
                                cwd=REPO,
                                capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ''
    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        mmseg=mmseg.__version__,
        platform=platform.platform(),
        cpu=cpu,
        nproc=os.cpu_count(),
        cuda=torch.cuda.is_available(),
        git_commit=commit,
        threads_per_run=args.threads,
        jobs=args.jobs,
        nice=args.nice)


class Protocol:
    """The stages of one dataset and their record (``protocol.json``)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.root = osp.abspath(osp.join(args.work_root, args.dataset))
        os.makedirs(self.root, exist_ok=True)
        self.record_path = osp.join(self.root, 'protocol.json')
        self.record = {}
        if osp.isfile(self.record_path):
            with open(self.record_path) as f:
                self.record = json.load(f)
        self.record.setdefault('stages', {})
        self.record['dataset'] = args.dataset
        # A later invocation (more seeds, an ablation) adds to the record.
        old_arms = self.record.get('seeds', {}).get('arms', [])
        old_gans = self.record.get('seeds', {}).get('gans', [])
        self.record['seeds'] = dict(
            base=args.base_seed,
            gan=args.base_seed if args.gan_seed is None else args.gan_seed,
            arms=sorted(set(old_arms) | set(args.seeds)))
        if args.gan_seeds:
            self.record['seeds']['gans'] = sorted(
                set(old_gans) | set(args.gan_seeds))
        self.record['configs'] = dict(
            baseline=args.baseline,
            gan_pretrain=args.gan_pretrain,
            finetune=args.finetune,
            control=args.control)
        self.record['cfg_options'] = args.cfg_options
        self.record.setdefault('environment', {})
        self.record['environment'].update(environment(args))
        self._lock = threading.Lock()
        self.record['invocation'] = ' '.join(
            shlex.quote(a) for a in [sys.executable] + sys.argv)
        if not args.dry_run:
            self.record.setdefault('invocations', []).append(
                dict(
                    cmd=self.record['invocation'],
                    environment=self.record['environment']))

    # ---------------------------------------------------------- utilities
    def save(self) -> None:
        if self.args.dry_run:
            return
        with self._lock:  # phase-2 runs may finish side by side (--jobs)
            tmp = self.record_path + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(self.record, f, indent=1)
            os.replace(tmp, self.record_path)

    def run(self, name: str, cmd: List[str], log: str) -> dict:
        """Run one command; its output goes to ``log``."""
        env = dict(os.environ)
        env.update(
            OMP_NUM_THREADS=str(self.args.threads),
            MKL_NUM_THREADS=str(self.args.threads),
            PYTHONWARNINGS='ignore')
        line = ' '.join(shlex.quote(c) for c in cmd)
        print(f'[{self.args.dataset}] {name}: {line}', flush=True)
        if self.args.dry_run:
            return dict(cmd=line, dry_run=True)
        nice = self.args.nice
        start = time.time()
        with open(log, 'w') as out:
            proc = subprocess.run(
                cmd,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None)
        wall = time.time() - start
        if proc.returncode != 0:
            with open(log) as f:
                tail = f.read()[-3000:]
            raise RuntimeError(
                f'Stage {name} failed (exit {proc.returncode}) after '
                f'{wall:.0f} s; command:\n  {line}\nlog: {log}\n...{tail}')
        return dict(
            cmd=line,
            wall_s=round(wall, 1),
            start=time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(start)),
            log=log)

    def train(self, name: str, config: str, seed: int,
              options: List[str]) -> str:
        """Train one stage unless its final checkpoint exists."""
        work = osp.join(self.root, name)
        options = list(
            self.args.cfg_options) + options + [f'randomness.seed={seed}']
        iters = max_iters_of(osp.join(REPO, config), options)
        ckpt = osp.join(work, f'iter_{iters}.pth')
        stage = self.record['stages'].setdefault(name, {})
        stage.update(
            config=config,
            seed=seed,
            max_iters=iters,
            checkpoint=ckpt,
            work_dir=work)
        if osp.isfile(ckpt):
            print(f'[{self.args.dataset}] {name}: done ({ckpt})', flush=True)
            self._adopt_manual_record(stage, work)
        else:
            os.makedirs(work, exist_ok=True)
            cmd = [
                sys.executable, 'tools/train.py', config, '--work-dir', work
            ]
            if osp.isfile(osp.join(work, 'last_checkpoint')):
                # mmengine resumes *from load_from* when both are given,
                # i.e. from the previous stage's weights: drop it so the
                # run resumes from its own last checkpoint.
                cmd.append('--resume')
                options = [
                    o for o in options if not o.startswith('load_from=')
                ]
            cmd += ['--cfg-options'] + options
            stage['train'] = self.run(name, cmd, osp.join(work, 'train.out'))
        stage['config_dump'] = osp.join(
            work, osp.basename(config))  # mmengine dumps it there
        stage['scalars'] = sorted(
            glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))
        self.save()
        return ckpt

    @staticmethod
    def _adopt_manual_record(stage: dict, work: str) -> None:
        """A run started by hand with the same command (see results.md)."""
        path = osp.join(work, 'manual_stage.json')
        if 'train' in stage or not osp.isfile(path):
            return
        with open(path) as f:
            man = json.load(f)
        stage['train'] = dict(
            cmd=man['cmd'],
            wall_s=round(man['end'] - man['start'], 1),
            start=time.strftime('%Y-%m-%dT%H:%M:%S',
                                time.gmtime(man['start'])),
            note='started by hand with this command before the script '
            'was ready; threads={threads}, nice={nice}'.format(**man))

    def test(self, name: str, config: str, ckpt: str) -> dict:
        """Evaluate a checkpoint unless its ``metrics.json`` exists."""
        work = osp.join(self.root, name, 'test')
        out = osp.join(work, 'metrics.json')
        stage = self.record['stages'][name]
        if self.args.dry_run:
            self.run(f'{name}/test',
                     [sys.executable, 'tools/test.py', config, ckpt], '')
            return {}
        if not osp.isfile(out):
            os.makedirs(work, exist_ok=True)
            cmd = [
                sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
                work
            ]
            if self.args.cfg_options:
                cmd += ['--cfg-options'] + list(self.args.cfg_options)
            log = osp.join(work, 'test.out')
            stage['test'] = self.run(f'{name}/test', cmd, log)
            metrics = parse_test_log(log)
            with open(out, 'w') as f:
                json.dump(metrics, f, indent=1)
        with open(out) as f:
            metrics = json.load(f)
        stage['metrics'] = metrics
        self.save()
        return metrics

    # ------------------------------------------------------------- stages
    def main(self) -> dict:
        a = self.args
        t0 = time.time()
        it = ([
            f'train_cfg.max_iters={a.baseline_iters}',
            f'param_scheduler.0.end={a.baseline_iters}'
        ] if a.baseline_iters else [])
        base_ckpt = self.train('baseline', a.baseline, a.base_seed, it)
        self.test('baseline', a.baseline, base_ckpt)

        it = ([
            f'train_cfg.max_iters={a.gan_iters}',
            f'custom_hooks.0.gan_iters={a.gan_iters}'
        ] if a.gan_iters else [])
        # phase 1: one run, or one per --gan-seeds seed
        gans = [(None, self.record['seeds']['gan'])] if not a.gan_seeds \
            else [(g, g) for g in a.gan_seeds]
        gan_ckpts = {}

        def gan_run(tag_seed):
            tag, seed = tag_seed
            name = 'gan_pretrain' if tag is None else f'gan_pretrain_gan{tag}'
            gan_ckpts[tag] = self.train(name, a.gan_pretrain, seed,
                                        it + [f'load_from={base_ckpt}'])

        with ThreadPoolExecutor(max(1, min(a.jobs, len(gans)))) as pool:
            list(pool.map(gan_run, gans))  # --jobs: phase-1 seeds in parallel

        it = ([f'train_cfg.max_iters={a.finetune_iters}']
              if a.finetune_iters else [])
        variants = {f'seggan-{v[0]}': v[1:] for v in a.variant}
        # phase-2 seed first: a partial run already has every arm per seed
        # The CE-only control never runs G or D, and phase 1 leaves the
        # segmentor bit-identical (tests/test_tools/test_dist_train.py): a
        # control on another phase-1 checkpoint would repeat the same run,
        # so there is one control per phase-2 seed, on the first phase-1
        # seed's checkpoint, and every phase-1 seed's arms pair with it.
        runs = [(arm, tag, seed) for seed in a.seeds for tag, _ in gans
                for arm in list(ARMS) + list(variants)
                if arm != 'control' or tag == gans[0][0]]

        def arm_run(arm_tag_seed):
            arm, tag, seed = arm_tag_seed
            config = a.control if arm == 'control' else a.finetune
            name = stage_name(arm, seed, tag)
            ckpt = self.train(
                name, config, seed,
                it + [f'load_from={gan_ckpts[tag]}'] + variants.get(arm, []))
            if arm in variants:
                self.record['stages'][name]['overrides'] = variants[arm]
            self.test(name, config, ckpt)

        with ThreadPoolExecutor(max(1, a.jobs)) as pool:
            list(pool.map(arm_run, runs))  # re-raises the first failure
        if a.dry_run:
            return {}
        summary = summarize(self.record)
        self.record['summary'] = summary
        self.record['total_wall_s_this_invocation'] = round(
            time.time() - t0, 1)
        self.save()
        md = summary_markdown(self.record)
        with open(osp.join(self.root, 'summary.md'), 'w') as f:
            f.write(md)
        print(md)
        print(f'Work dirs and checkpoints: {self.root}\n'
              f'Record: {self.record_path}')
        return summary


def parse_test_log(log: str) -> dict:
    """aAcc / mIoU / mAcc and the per-class table from a test.py log."""
    with open(log) as f:
        text = f.read()
    found = re.findall(r'aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)',
                       text)
    if not found:
        raise RuntimeError(f'No aAcc/mIoU/mAcc line in {log}')
    aacc, miou, macc = (float(v) for v in found[-1])
    per_class = {}
    block = text.rsplit('per class results:', 1)[-1]
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] not in ('Class', ''):
            try:
                per_class[cells[0]] = dict(
                    IoU=float(cells[1]), Acc=float(cells[2]))
            except ValueError:
                continue
        elif per_class and not line.startswith(('|', '+')):
            break
    return dict(aAcc=aacc, mIoU=miou, mAcc=macc, per_class=per_class)


def _mean_std(values: List[float]) -> Dict[str, float]:
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean)**2 for v in values) / (n - 1))**0.5 if n > 1 else 0.
    return dict(
        mean=round(mean, 2),
        std=round(std, 2),
        n=n,
        values=[round(v, 2) for v in values])


_RUN_NAME = re.compile(
    r'^(?P<arm>.+?)(?:_gan(?P<gan>\d+))?_seed(?P<seed>\d+)$')


def stage_name(arm: str, seed: int, gan: Optional[int] = None) -> str:
    """``ARM_seedS``, or ``ARM_ganG_seedS`` with several phase-1 seeds."""
    return f'{arm}_seed{seed}' if gan is None else f'{arm}_gan{gan}_seed{seed}'


def parse_stage_name(name: str) -> Optional[tuple]:
    """(arm, phase-1 seed or None, phase-2 seed) of an arm's stage name."""
    m = _RUN_NAME.match(name)
    if not m:
        return None
    gan = m.group('gan')
    return m.group('arm'), None if gan is None else int(gan), int(
        m.group('seed'))


def paired_runs(record: dict, arm: str) -> List[tuple]:
    """(gan, seed, control metrics, arm metrics) of finished pairs."""
    stages = record['stages']
    parsed = {n: parse_stage_name(n) for n in sorted(stages)}
    shared = {}  # phase-2 seed -> the one control of that seed (see run)
    for name, p in parsed.items():
        if p and p[0] == 'control' and stages[name].get('metrics'):
            shared.setdefault(p[2], stages[name]['metrics'])
    pairs = []
    for name, p in parsed.items():
        if not p or p[0] != arm:
            continue
        _, gan, seed = p
        c = stages.get(stage_name('control', seed, gan), {}).get('metrics')
        if c is None and gan is not None:
            c = shared.get(seed)
        m = stages[name].get('metrics')
        if c and m:
            pairs.append((gan, seed, c, m))
    return pairs


def summarize(record: dict) -> dict:
    """Mean +- sample std over seeds per arm; the baseline as one value.

    Arms with several phase-1 seeds pool every (phase-1, phase-2) run, so
    the std is the spread a rerun with new seeds would see (the baseline is
    one run). ``paired`` is each arm minus the control of the same seeds.
    """
    stages = record['stages']
    out = {}
    groups = {'baseline': ['baseline']}
    runs = {}
    for name in stages:
        parsed = parse_stage_name(name)
        if parsed:
            runs.setdefault(parsed[0], []).append(name)
    variants = sorted(a for a in runs if a.startswith('seggan-'))
    for arm in list(ARMS) + variants:
        groups[arm] = sorted(runs.get(arm, []))
    for arm, names in groups.items():
        names = [n for n in names if 'metrics' in stages[n]]  # finished
        ms = [stages[n]['metrics'] for n in names]
        if not ms:
            continue
        entry = {
            k: _mean_std([m[k] for m in ms])
            for k in ('mIoU', 'mAcc', 'aAcc')
        }
        entry['seeds'] = [stages[n]['seed'] for n in names]
        gans = [parse_stage_name(n)[1] for n in names if arm != 'baseline']
        if any(g is not None for g in gans):
            entry['gan_seeds'] = gans
        if arm != 'baseline' and arm != 'control':
            pairs = paired_runs(record, arm)
            if pairs:
                entry['paired'] = _mean_std(
                    [m['mIoU'] - c['mIoU'] for _, _, c, m in pairs])
        classes = list(ms[0]['per_class'])
        entry['per_class_IoU'] = {
            c: _mean_std([m['per_class'][c]['IoU'] for m in ms])
            for c in classes
        }
        entry['iters'] = stages[names[0]]['max_iters']
        if 'overrides' in stages[names[0]]:
            entry['overrides'] = stages[names[0]]['overrides']
        entry['config'] = stages[names[0]]['config']
        out[arm] = entry
    return out


def summary_markdown(record: dict) -> str:
    """The model-zoo style table and the per-class IoU table."""
    s = record['summary']
    lines = [
        f'### {record["dataset"]}', '',
        '| Arm | Iters | Seeds | mIoU | mIoU per seed | mAcc | aAcc | '
        'arm - control (paired) | config |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for arm, e in s.items():
        pm = lambda k: f'{e[k]["mean"]:.2f} ± {e[k]["std"]:.2f}'  # noqa
        per_seed = ', '.join(f'{v:.2f}' for v in e['mIoU']['values'])
        seeds = [str(x) for x in e['seeds']]
        if 'gan_seeds' in e:  # phase-1 seed / phase-2 seed
            seeds = [f'{g}/{x}' for g, x in zip(e['gan_seeds'], e['seeds'])]
        paired = e.get('paired')
        paired = f'{paired["mean"]:+.2f} ± {paired["std"]:.2f} ' \
            f'(n={paired["n"]})' if paired else ''
        lines.append(
            f'| {arm} | {e["iters"]} | {", ".join(seeds)} | '
            f'{pm("mIoU")} | {per_seed} | {pm("mAcc")} | {pm("aAcc")} | '
            f'{paired} | [config](../{e["config"]}) |')
    for arm, e in s.items():
        if 'overrides' in e:
            lines.append(f'\n`{arm}`: the seggan config with '
                         f'`{" ".join(e["overrides"])}`.')
    classes = list(next(iter(s.values()))['per_class_IoU'])
    lines += [
        '', '| Class | ' + ' | '.join(s) + ' |', '|---|' + '---|' * len(s)
    ]
    for c in classes:
        lines.append(f'| {c} | ' +
                     ' | '.join(f'{s[a]["per_class_IoU"][c]["mean"]:.2f} ± '
                                f'{s[a]["per_class_IoU"][c]["std"]:.2f}'
                                for a in s) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> dict:
    os.chdir(REPO)
    args = parse_args(argv)
    return Protocol(args).main()


if __name__ == '__main__':
    main()
