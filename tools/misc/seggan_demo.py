"""The README's demo: baseline, SegGAN (phase 1 + 2), CE-only control, test.

Runs the package's own tools (``tools/train.py``, ``tools/test.py``) on the
generated ToyScenes, so a new user sees the whole pipeline without
downloading anything, and prints a table of mIoU for the baseline, the
CE-only control and SegGAN.

Small and reproducible on purpose: a few minutes on 2 CPU cores, and a
bit-identical table for the same ``--seed`` on the same machine, thread
count and versions. Another CPU sums floats in another order (torch's and
oneDNN's kernels depend on its capability, AVX2, AVX512, ..., and on its
model) and gives other last digits; the demo prints its capability and
whether its numbers are inside the band measured across CPUs
(``MEASURED``), so a table outside it points at the install, not at the
CPU. Every
run is single-threaded (``OMP_NUM_THREADS=1``: the thread count changes the
order of floating-point sums), loads data in the main process
(``num_workers=0``), and seeds mmengine with ``deterministic=True`` (the
configs say so); the data are generated from the same seed. Two runs at a
time use the two cores:

.. code-block:: none

    [1/3] baseline DeepLabV3 (300 its)  ||  SegGAN phase 1: G, D on GT (150)
    [2/3] SegGAN phase 2 (100 its)      ||  CE-only control (100, GAN terms 0)
          both start from the baseline's segmentor + phase 1's G and D
    [3/3] tools/test.py on val: baseline, control, SegGAN

Phase 1 never runs the segmentor (it trains G and D on ground-truth masks),
so it does not wait for the baseline; phase 2 loads the baseline with
``load_from`` and G and D with ``init_cfg=dict(type='Pretrained')``.
Stages whose final checkpoint exists are skipped, so a rerun resumes.

    python tools/misc/seggan_demo.py [--work-dir work_dirs/demo] [--jobs 2]

Exit status 1 when the table is outside the band.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The demo's configs: a quarter-width ResNet-18 DeepLabV3 (output stride 8)
# and G/D of width 16, one data-loading process, deterministic algorithms.
BASELINE = 'configs/deeplabv3/deeplabv3_r18w16-d8_1xb8-300it_toy-96x128.py'
GAN = ('configs/seggan/seggan-gan-pretrain_'
       'deeplabv3_r18w16-d8_1xb8-150it_toy-96x128.py')
SEGGAN = ('configs/seggan/seggan-finetune_'
          'deeplabv3_r18w16-d8_1xb8-100it_toy-96x128.py')
CONTROL = ('configs/seggan/seggan-finetune-control_'
           'deeplabv3_r18w16-d8_1xb8-100it_toy-96x128.py')
BASE_ITERS, GAN_ITERS, FT_ITERS = 300, 150, 100  # as in the configs
# One thread per run: the same sums in the same order on every machine.
THREADS = dict(
    OMP_NUM_THREADS='1',
    MKL_NUM_THREADS='1',
    OPENBLAS_NUM_THREADS='1',
    PYTHONHASHSEED='0',
    PYTHONWARNINGS='ignore')

# The demo's mIoU (baseline, CE-only control, SegGAN), seed 0, torch 2.13.0
# CPU, mmengine 0.10.7, mmseg 1.2.2, one thread per run, by CPU capability.
# The capped rows imitate other CPUs on one machine: ATEN_CPU_CAPABILITY
# picks ATen's kernels, ONEDNN_MAX_CPU_ISA oneDNN's (the convolutions),
# MKL_ENABLE_INSTRUCTIONS MKL's. Neither a cap nor the same capability
# reproduces another machine's table: the libraries also choose kernels by
# CPU model (two AVX2 machines differ). One machine, thread count and set
# of versions gives a bit-identical table.
MEASURED = (
    ('AVX2 (AMD EPYC), native', 73.40, 73.66, 72.68),
    ('AVX2 (another AMD EPYC), native', 73.38, 73.57, 72.02),
    ('AVX512 (AMD EPYC, avx512_bf16), native', 73.29, 73.41, 73.31),
    ('AVX512 machine, ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2', 73.51,
     73.69, 72.00),
    ('AVX2 machine, ATEN_CPU_CAPABILITY=default', 73.31, 73.44, 71.98),
    ('AVX2 machine, ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=SSE41', 73.36,
     73.67, 73.74),
    ('AVX2 machine, ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 '
     'MKL_ENABLE_INSTRUCTIONS=SSE4_2', 73.36, 73.51, 72.33),
)
MEASURED_TORCH = '2.13.0'
ARMS = ('baseline', 'control', 'seggan')
# A CPU not measured may land a little outside the measured range.
MARGIN = 0.5
CAPS = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'MKL_ENABLE_INSTRUCTIONS')


def cpu_stack() -> dict:
    """What decides the last digits: capability, caps, torch version."""
    import torch
    return dict(
        capability=torch.backends.cpu.get_cpu_capability(),
        caps={k: os.environ[k]
              for k in CAPS if os.environ.get(k)},
        torch=torch.__version__.split('+')[0])


def describe(stack: dict) -> str:
    caps = ' '.join(f'{k}={v}' for k, v in stack['caps'].items())
    return (f'CPU capability {stack["capability"]} '
            f'({caps or "not capped"}), torch {stack["torch"]}, '
            f'{THREADS["OMP_NUM_THREADS"]} thread per run')


def band() -> dict:
    """Per arm: the range measured across capabilities, +- MARGIN."""
    limits = {}
    for i, arm in enumerate(ARMS):
        values = [row[i + 1] for row in MEASURED]
        limits[arm] = (min(values) - MARGIN, max(values) + MARGIN)
    return limits


def judge(miou: dict, stack: dict):
    """Say whether a table is what a working install gives on some CPU.

    Args:
        miou (dict): arm (``ARMS``) -> mIoU as printed (2 decimals).
        stack (dict): :func:`cpu_stack`.

    Returns:
        tuple: (lines to print, True if inside the band).
    """
    limits = band()
    outside = [
        f'{arm} {miou[arm]:.2f} (band {lo:.2f}-{hi:.2f})'
        for arm, (lo, hi) in limits.items()
        if not lo <= round(miou[arm], 2) <= hi
    ]
    ranges = ', '.join(f'{arm} {lo:.2f}-{hi:.2f}'
                       for arm, (lo, hi) in limits.items())
    version = '' if stack['torch'] == MEASURED_TORCH else (
        f' (The band was measured with torch {MEASURED_TORCH}; this is '
        f'torch {stack["torch"]}.)')
    if outside:
        return [
            'OUTSIDE the band measured across CPUs '
            f'({ranges} mIoU): {"; ".join(outside)}.{version} A different '
            'CPU does not explain this: check the install '
            '(tools/setup_env.sh pins the versions), local changes to the '
            'configs, or the data (delete data/toy_scenes to regenerate it).'
        ], False
    lines = [
        f'Inside the band measured across CPUs ({ranges} '
        f'mIoU): what a working install gives on some CPU.{version}'
    ]
    return lines, True


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/toy_scenes')
    parser.add_argument(
        '--seed', type=int, default=0, help='data and training seed')
    parser.add_argument(
        '--jobs',
        type=int,
        default=2,
        help='runs at a time (each uses one thread); the table does not '
        'depend on it')
    return parser.parse_args()


class Job:
    """A tool run in a subprocess, its output to a log file."""

    def __init__(self, name, cmd, log):
        self.name, self.cmd, self.log = name, cmd, log
        self.proc = self.out = None
        self.start = 0.0

    def launch(self):
        os.makedirs(osp.dirname(self.log), exist_ok=True)
        with open(self.log + '.cmd', 'w') as f:  # to rerun it by hand
            f.write(' '.join(['python'] + self.cmd) + '\n')
        self.start = time.time()
        self.out = open(self.log, 'w')
        self.proc = subprocess.Popen(
            [sys.executable] + self.cmd,
            cwd=REPO,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, **THREADS))

    def done(self):
        """Reap the run if it ended: print its wall and CPU time."""
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.out.close()
        if os.waitstatus_to_exitcode(status):
            tail = open(self.log).read()[-3000:]
            raise SystemExit(f'FAILED ({self.name}): {" ".join(self.cmd)}\n'
                             f'{tail}\n(full log: {self.log})')
        print(
            f'  {self.name}: {time.time() - self.start:.0f} s wall, '
            f'{usage.ru_utime + usage.ru_stime:.0f} s CPU '
            f'(log: {osp.relpath(self.log, REPO)})',
            flush=True)
        return True


def run_all(jobs, parallel):
    """Run jobs, ``parallel`` at a time; stop at the first failure."""
    pending, running = list(jobs), []
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            job.launch()
            running.append(job)
        time.sleep(0.5)
        running = [job for job in running if not job.done()]


def common_options(data_root, seed):
    """The data root of every loader and the seed."""
    return [f'randomness.seed={seed}'] + [
        f'{split}_dataloader.dataset.data_root={data_root}'
        for split in ('train', 'val', 'test')
    ]


def train_job(name, config, work, iters, options, logs):
    ckpt = osp.join(work, f'iter_{iters}.pth')
    if osp.exists(ckpt):
        print(f'  {name}: done before ({osp.relpath(ckpt, REPO)})')
        return ckpt, None
    cmd = ['tools/train.py', config, '--work-dir', work, '--cfg-options']
    return ckpt, Job(name, cmd + options, osp.join(logs, f'{name}_train.log'))


def main():
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when logged
    args = parse_args()
    t_start = time.time()
    work = osp.abspath(args.work_dir)
    logs = osp.join(work, 'logs')
    data_root = osp.abspath(args.data_root)
    if not osp.isdir(osp.join(data_root, 'img_dir')):
        from make_toy_scenes import make_toy_scenes  # tools/misc/
        make_toy_scenes(data_root, seed=args.seed)
        print(f'Generated ToyScenes in {data_root} (seed {args.seed})')
    else:
        print(f'Using ToyScenes in {data_root}')
    common = common_options(data_root, args.seed)
    runs = {}
    stack = cpu_stack()
    print(describe(stack))

    print(f'[1/3] Baseline DeepLabV3 ({BASE_ITERS} iterations) || SegGAN '
          f'phase 1: G and D on ground truth ({GAN_ITERS} iterations)')
    base, job_base = train_job('baseline', BASELINE,
                               osp.join(work,
                                        'baseline'), BASE_ITERS, common, logs)
    gan, job_gan = train_job(
        'gan_pretrain', GAN, osp.join(work, 'gan_pretrain'), GAN_ITERS,
        [o for o in common if not o.startswith(('val_', 'test_'))], logs)
    run_all([j for j in (job_base, job_gan) if j], args.jobs)

    print(f'[2/3] SegGAN phase 2 || CE-only control ({FT_ITERS} iterations '
          'each), both from the baseline segmentor + phase-1 G and D')
    start = [f'load_from={base}']
    for net in ('generator', 'discriminator'):
        start += [
            f'model.{net}.init_cfg.type=Pretrained',
            f'model.{net}.init_cfg.checkpoint={gan}',
            f'model.{net}.init_cfg.prefix={net}.'
        ]
    seggan, job_seggan = train_job('seggan', SEGGAN, osp.join(work, 'seggan'),
                                   FT_ITERS, common + start, logs)
    control, job_control = train_job('control', CONTROL,
                                     osp.join(work, 'control'), FT_ITERS,
                                     common + start, logs)
    run_all([j for j in (job_seggan, job_control) if j], args.jobs)

    print('[3/3] tools/test.py on the val split')
    arms = (('baseline DeepLabV3', 'baseline', BASELINE, base,
             f'{BASE_ITERS}'), ('CE-only control', 'control', CONTROL, control,
                                f'{BASE_ITERS} + {FT_ITERS}'),
            ('SegGAN', 'seggan', SEGGAN, seggan,
             f'{BASE_ITERS} + {GAN_ITERS} GAN + {FT_ITERS}'))
    tests = []
    for _, key, config, ckpt, _ in arms:
        out = osp.join(work, 'test_' + key)
        runs[key] = out
        tests.append(
            Job(f'test {key}', [
                'tools/test.py', config, ckpt, '--work-dir', out,
                '--cfg-options', *common
            ], osp.join(logs, f'test_{key}.log')))
    run_all(tests, args.jobs)

    print('\n| arm | iterations | mIoU | mAcc | aAcc |\n|---|---|---|---|---|')
    miou = {}
    for name, key, _, _, iters in arms:
        found = sorted(glob.glob(osp.join(runs[key], '*', '*.json')))
        with open(found[-1]) as f:
            m = json.load(f)
        miou[key] = m['mIoU']
        print(f'| {name} | {iters} | {m["mIoU"]:.2f} | {m["mAcc"]:.2f} | '
              f'{m["aAcc"]:.2f} |')
    lines, inside = judge(miou, stack)
    print('\n' + describe(stack) + '.\n' + '\n'.join(lines))
    print('One seed on generated toy data: a smoke test of the pipeline, '
          'not evidence for or against SegGAN (see docs/results.md).')
    print(f'Work dir: {work}  (logs: {logs})  total '
          f'{(time.time() - t_start) / 60:.1f} min')
    if not inside:
        sys.exit(1)


if __name__ == '__main__':
    main()
