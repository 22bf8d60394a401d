"""The README's demo: baseline, SegGAN (phase 1 + 2), CE-only control, test.

Runs the package's own tools on the generated ToyScenes, so a new user sees
the whole pipeline without downloading anything, and prints a table of
mIoU for the baseline, the CE-only control and SegGAN. Stages whose final
checkpoint exists are skipped, so a rerun resumes.

    python tools/misc/seggan_demo.py [--work-dir work_dirs/demo]
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
BASELINE = 'configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py'
SEGGAN = 'configs/seggan_toy.py'
CONTROL = ('configs/seggan/seggan-finetune-control_'
           'deeplabv3_r18-d16_1xb8-300it_toy-96x128.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/toy_scenes')
    return parser.parse_args()


def run(cmd, log):
    """Run a tool, its output to ``log``; raise with the log's tail."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    t0 = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(
            [sys.executable] + cmd,
            cwd=REPO,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if proc.returncode:
        tail = open(log).read()[-3000:]
        raise SystemExit(f'FAILED: {" ".join(cmd)}\n{tail}\n(full log: {log})')
    return time.time() - t0


def data_opts(root):
    return [
        f'{s}_dataloader.dataset.data_root={root}'
        for s in ('train', 'val', 'test')
    ]


def train(config, work, extra, data_root, last_iter, logs):
    ckpt = osp.join(work, f'iter_{last_iter}.pth')
    if osp.exists(ckpt):
        print(f'  (done before: {ckpt})')
        return ckpt
    secs = run([
        'tools/train.py', config, '--work-dir', work, '--cfg-options',
        *data_opts(data_root), *extra
    ], osp.join(logs,
                osp.basename(work) + '_train.log'))
    print(f'  trained in {secs / 60:.1f} min -> {ckpt}')
    return ckpt


def test(config, ckpt, work, data_root, logs):
    run([
        'tools/test.py', config, ckpt, '--work-dir', work, '--cfg-options',
        *data_opts(data_root)
    ], osp.join(logs,
                osp.basename(work) + '.log'))
    found = sorted(glob.glob(osp.join(work, '*', '*.json')))
    with open(found[-1]) as f:
        return json.load(f)


def main():
    args = parse_args()
    t_start = time.time()
    work = osp.abspath(args.work_dir)
    logs = osp.join(work, 'logs')
    data_root = osp.abspath(args.data_root)
    if not osp.isdir(osp.join(data_root, 'img_dir')):
        sys.path.insert(0, REPO)
        from mmseg_seggan.datasets import make_toy_scenes
        make_toy_scenes(data_root, seed=0)
        print(f'Generated ToyScenes in {data_root}')
    print('[1/4] Baseline DeepLabV3 (600 iterations)')
    base = train(BASELINE, osp.join(work, 'baseline'), [], data_root, 600,
                 logs)
    print('[2/4] SegGAN: phase 1 GAN pre-training (300) + phase 2 (300)')
    seggan = train(SEGGAN, osp.join(work, 'seggan'), [
        f'load_from={base}', 'default_hooks.checkpoint.interval=300',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ], data_root, 600, logs)
    print('[3/4] CE-only control: phase 2 (300) from the same start, GAN '
          'terms weighted 0')
    control = train(CONTROL, osp.join(work, 'control'), [
        f'load_from={osp.join(work, "seggan", "iter_300.pth")}',
        'default_hooks.checkpoint.interval=300'
    ], data_root, 300, logs)
    print('[4/4] tools/test.py on the val split')
    rows = []
    for name, cfg, ckpt, iters in (('baseline DeepLabV3', BASELINE, base,
                                    '600'), ('CE-only control', CONTROL,
                                             control, '600 + 300'),
                                   ('SegGAN', SEGGAN, seggan,
                                    '600 + 300 GAN + 300')):
        m = test(
            cfg, ckpt,
            osp.join(work,
                     'test_' + name.split()[0].lower().replace('-', '_')),
            data_root, logs)
        rows.append((name, iters, m['mIoU'], m['mAcc'], m['aAcc']))
    print('\n| arm | iterations | mIoU | mAcc | aAcc |\n|---|---|---|---|---|')
    for r in rows:
        print(f'| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.2f} |')
    print('\nOne seed on generated toy data: a smoke test of the pipeline, '
          'not evidence for or against SegGAN (see docs/results.md).')
    print(f'Work dir: {work}  (logs: {logs})  total '
          f'{(time.time() - t_start) / 60:.1f} min')


if __name__ == '__main__':
    main()
