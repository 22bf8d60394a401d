"""Soak test: train both SegGAN phases and watch resident memory.

Runs a SegGAN config (default: the embedded ToyScenes one) for a few
hundred iterations through the config's runner, exactly as ``tools/train.py``
would, and prints the resident set size (RSS) every ``--interval``
iterations: of the main process and of all its dataloader workers. At the
end it reports, per phase, the growth from the end of that phase's warm-up
to the highest later sample, and fails (exit code 1) if any exceeds
``--max-growth`` percent. Phase 1 and phase 2 are judged separately: phase 2
runs the segmentor as well, so its level is legitimately higher.

Examples:
    python tools/analysis_tools/soak_seggan.py
    python tools/analysis_tools/soak_seggan.py configs/seggan_toy.py \
        --iters 400 --interval 20 --warmup 60
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
import warnings

warnings.filterwarnings('ignore')

import mmseg_seggan  # noqa: E402,F401
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

from mmseg_seggan.utils import set_gan_iters  # noqa: E402
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from seggan_launch import build_runner  # noqa: E402  (tools/)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description='SegGAN memory soak test')
    parser.add_argument(
        'config',
        nargs='?',
        default=osp.join(REPO, 'configs', 'seggan_toy.py'))
    parser.add_argument(
        '--data-root',
        help='dataset root; default: a ToyScenes set generated in a '
        'temporary folder (96 train / 24 val, 96x128, seed 0)')
    parser.add_argument(
        '--iters', type=int, default=300, help='total iterations')
    parser.add_argument(
        '--gan-iters',
        type=int,
        default=None,
        help='phase-1 iterations (default: half of --iters)')
    parser.add_argument(
        '--interval', type=int, default=10, help='print RSS every N iters')
    parser.add_argument(
        '--warmup',
        type=int,
        default=50,
        help='iterations of each phase not judged (allocator, caches)')
    parser.add_argument(
        '--max-growth',
        type=float,
        default=5.0,
        help='allowed growth after warm-up, percent')
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def _rss_kib(pid: int) -> int:
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def _children(pid: int) -> list:
    kids = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                kids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return kids


def memory_mib() -> tuple:
    """(main process RSS, main + worker processes RSS), in MiB."""
    pid = os.getpid()
    main = _rss_kib(pid)
    total = main
    for kid in _children(pid):
        try:
            total += _rss_kib(kid)
        except OSError:
            pass  # a worker that just exited
    return main / 1024, total / 1024


class RSSMonitorHook(Hook):
    """Samples RSS every ``interval`` iterations and prints one line."""
    priority = 'LOWEST'

    def __init__(self, interval: int, gan_iters: int):
        self.interval = interval
        self.gan_iters = gan_iters
        self.samples = []  # (iteration, phase, main MiB, total MiB)
        self._t0 = None

    def before_train(self, runner) -> None:
        self._t0 = time.time()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        it = runner.iter + 1
        if it % self.interval and it != runner.max_iters:
            return
        phase = 1 if it <= self.gan_iters else 2
        main, total = memory_mib()
        self.samples.append((it, phase, main, total))
        print(
            f'[soak] iter {it:5d}  phase {phase}  rss {main:8.1f} MiB  '
            f'rss+workers {total:8.1f} MiB  elapsed '
            f'{time.time() - self._t0:7.1f} s',
            flush=True)


def judge(samples, gan_iters, warmup, max_growth) -> bool:
    ok = True
    for phase in (1, 2):
        start = 0 if phase == 1 else gan_iters
        rows = [s for s in samples if s[1] == phase]
        after = [s for s in rows if s[0] >= start + warmup]
        if len(after) < 2:
            print(f'[soak] phase {phase}: too few samples after a warm-up '
                  f'of {warmup} iterations to judge')
            continue
        for col, label in ((2, 'rss'), (3, 'rss+workers')):
            base = after[0][col]
            peak = max(s[col] for s in after)
            end = after[-1][col]
            growth = 100.0 * (peak - base) / base
            verdict = 'OK' if growth <= max_growth else 'FAIL'
            ok &= growth <= max_growth
            print(f'[soak] phase {phase} {label:11s}: after warm-up (iter '
                  f'{after[0][0]}) {base:.1f} MiB, peak {peak:.1f} MiB, '
                  f'last {end:.1f} MiB, growth {growth:+.2f}% '
                  f'(limit {max_growth}%) {verdict}')
    return ok


def main():
    args = parse_args()
    gan_iters = args.gan_iters if args.gan_iters is not None \
        else args.iters // 2
    tmp = tempfile.mkdtemp(prefix='seggan_soak_')
    root = args.data_root
    if root is None:
        sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
        from make_toy_scenes import make_toy_scenes
        root = make_toy_scenes(
            osp.join(tmp, 'toy_scenes'), 96, 24, size=(96, 128), seed=0)
    cfg = Config.fromfile(args.config)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = max(args.iters, 1)  # validate at the end
    set_gan_iters(cfg, gan_iters)
    cfg.default_hooks.checkpoint.interval = max(args.iters // 3, 1)
    cfg.default_hooks.logger.interval = args.interval
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or osp.join(tmp, 'work')
    cfg.launcher = 'none'
    monitor = RSSMonitorHook(args.interval, gan_iters)
    print(f'[soak] {args.config}: {args.iters} iterations ({gan_iters} '
          f'phase 1), RSS every {args.interval}, warm-up {args.warmup} per '
          f'phase, data {root}, work dir {cfg.work_dir}')
    runner = build_runner(cfg)
    runner.register_hook(monitor)
    runner.train()
    ok = judge(monitor.samples, gan_iters, args.warmup, args.max_growth)
    print(f'[soak] {"PASS" if ok else "FAIL"}')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
