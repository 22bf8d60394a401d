"""Score segmentation masks without labels, with SegGAN's trained generator.

A mask is as good as the image G paints from it (see ``mask_scores.py``
next to this script and ``docs/mask_quality.md``).

Modes:
    predict  Score each *predicted* mask of the val set. Where the set has
             GT, also per-image mIoU, the Spearman correlation of every
             score with it (the softmax-entropy baseline included), and a
             scatter plot.
    audit    Score each *ground-truth* mask, to flag likely annotation
             errors. ``--corrupt K`` corrupts K masks in memory on purpose
             (shift, wrong class, holes) and reports how many of them rank
             among the worst: precision@K and recall@2K.

Writes to ``--out-dir``: ``scores.csv`` (worst first), ``worst.png`` (a
contact sheet of the ``--worst`` N lowest-scored images), ``summary.json``
and, in predict mode with GT, ``score_vs_miou.png``.

Examples:
    python tools/analysis_tools/mask_quality.py configs/seggan_toy.py \
        work_dirs/seggan_toy/iter_600.pth --out-dir work_dirs/mq_predict
    python tools/analysis_tools/mask_quality.py configs/seggan_toy.py \
        work_dirs/seggan_toy/iter_600.pth --mode audit --corrupt 6 --seed 0
"""
import argparse
import csv
import heapq
import json
import os
import os.path as osp
import sys
import time
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (mmcv-lite compat + registration)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmseg_seggan.models.utils import gan_view, unwrap_seggan  # noqa: E402
from mmseg_seggan.utils import (load_checkpoint_file,  # noqa: E402
                                weights_only_loading)
from mmseg_seggan.visualization import contact_sheet  # noqa: E402
from mmseg_seggan.visualization import view_panels  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # the two below
sys.path.insert(1, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mask_corruption import (changed_share, choose_corruptions,  # noqa: E402
                             corrupt_mask)
from mask_scores import (AUDIT_SCORES, DEFAULT_AUDIT_SCORE,  # noqa: E402
                         DEFAULT_PREDICT_SCORE, PREDICT_SCORES, compute_scores,
                         image_statistics, per_image_miou, precision_at_k,
                         rank_worst_first, recall_at_k, spearman)
from seggan_launch import load_config  # noqa: E402  (tools/)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Label-free mask quality from a trained SegGAN')
    parser.add_argument('config', help='SegGAN config file')
    parser.add_argument('checkpoint', help='SegGAN checkpoint (G trained)')
    parser.add_argument(
        '--mode',
        choices=['predict', 'audit'],
        default='predict',
        help='score predicted masks (predict) or ground-truth masks (audit)')
    parser.add_argument(
        '--out-dir',
        help='output folder (default: '
        'work_dirs/mask_quality/<config name>_<mode>)')
    parser.add_argument(
        '--worst',
        type=int,
        default=8,
        help='number of lowest-scored images on the contact sheet')
    parser.add_argument(
        '--score',
        help='score that ranks the images (default: '
        f'{DEFAULT_PREDICT_SCORE} / {DEFAULT_AUDIT_SCORE}); choices: '
        f'{sorted(PREDICT_SCORES)} / {sorted(AUDIT_SCORES)}')
    parser.add_argument(
        '--corrupt',
        type=int,
        default=0,
        help='audit mode: corrupt this many GT masks on purpose (in memory)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the corruptions')
    parser.add_argument(
        '--split',
        choices=['val', 'test'],
        default='val',
        help='which dataloader of the config to score')
    parser.add_argument(
        '--max-images', type=int, help='score only the first N images')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    args = parser.parse_args(argv)
    if args.corrupt and args.mode != 'audit':
        parser.error('--corrupt only applies to --mode audit.')
    if args.worst < 0 or args.corrupt < 0:
        parser.error('--worst and --corrupt must be >= 0.')
    table = PREDICT_SCORES if args.mode == 'predict' else AUDIT_SCORES
    if args.score is None:
        args.score = (
            DEFAULT_PREDICT_SCORE
            if args.mode == 'predict' else DEFAULT_AUDIT_SCORE)
    elif args.score not in table:
        parser.error(f'--score {args.score} is not a {args.mode}-mode score; '
                     f'choose from {sorted(table)}.')
    return args


def build(args):
    """The model (eval mode, checkpoint loaded) and the dataloader."""
    from mmseg.apis import init_model
    cfg = load_config(args.config, args.cfg_options)
    loader_cfg = cfg.get(f'{args.split}_dataloader')
    if loader_cfg is None:
        raise KeyError(f'{args.config} has no {args.split}_dataloader; pick '
                       'another --split.')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint}')
    with weights_only_loading():  # mmengine's loader, weights-only
        model = init_model(cfg, args.checkpoint, device=args.device)
    unwrap_seggan(model)  # clear error for a non-SegGAN config
    check_gan_weights(model, args.checkpoint)
    loader_cfg = dict(loader_cfg)
    loader_cfg['persistent_workers'] = False
    loader = Runner.build_dataloader(loader_cfg)
    meta = getattr(model, 'dataset_meta', None) or {}
    if not meta.get('palette'):
        meta = dict(loader.dataset.metainfo)
    return cfg, model, loader, meta


def check_gan_weights(model, checkpoint: str) -> None:
    """Refuse a checkpoint whose G or D would stay randomly initialised.

    ``init_model`` only warns about missing keys, so a baseline (or
    exported) checkpoint gives a SegGAN with a random G and D, and every
    score would be noise reported as a result.

    Raises:
        ValueError: Names the checkpoint, the network and a missing key.
    """
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    for net in ('generator', 'discriminator'):
        own = [k for k in model.state_dict() if k.startswith(net + '.')]
        missing = [k for k in own if k not in state]
        if missing:
            raise ValueError(
                f'{checkpoint} has no trained {net} ({len(missing)} of '
                f'{len(own)} {net}.* tensors missing, e.g. {missing[0]}): '
                'it is not the checkpoint of a SegGAN run after GAN '
                'pre-training (a baseline or exported DeepLabV3 checkpoint?). '
                f'Scoring would use a randomly initialised {net}. Pass a '
                'SegGAN checkpoint saved after phase 1, e.g. '
                'work_dirs/seggan_toy/iter_600.pth.')


def _caption(rank, rec, score_name):
    text = f'#{rank}  {rec["image"]}  {score_name}={rec["score"]:.3f}'
    if rec.get('miou') is not None and np.isfinite(rec['miou']):
        text += f'  mIoU={rec["miou"]:.3f}'
    if rec.get('corruption'):
        text += f'  [corrupted: {rec["corruption"]}]'
    return text


def score_dataset(args, model, loader, palette):
    """Score every image; keep the panels of the ``--worst`` lowest."""
    num_classes = model.num_classes
    ignore_index = model.decode_head.ignore_index
    n_total = len(loader.dataset)
    if args.max_images:
        n_total = min(n_total, args.max_images)
    corrupt = {}
    if args.mode == 'audit' and args.corrupt:
        corrupt = choose_corruptions(n_total, args.corrupt,
                                     np.random.default_rng(args.seed))
    rng = np.random.default_rng(args.seed + 1)
    table = PREDICT_SCORES if args.mode == 'predict' else AUDIT_SCORES
    records, heap = [], []
    index = 0
    for data_batch in loader:
        if index >= n_total:
            break
        samples = data_batch['data_samples']
        n = min(len(samples), n_total - index)
        if n < len(samples):
            data_batch = dict(
                inputs=data_batch['inputs'][:n], data_samples=samples[:n])
            samples = samples[:n]
        shares = {}
        for j, sample in enumerate(samples):
            kind = corrupt.get(index + j)
            if kind is None:
                continue
            clean = sample.gt_sem_seg.data.squeeze(0).numpy()
            bad = corrupt_mask(clean, kind, rng, num_classes, ignore_index)
            shares[j] = changed_share(clean, bad, ignore_index)
            sample.gt_sem_seg.data = torch.from_numpy(bad)[None].to(
                sample.gt_sem_seg.data.dtype)
        if args.mode == 'audit' and not all('gt_sem_seg' in s
                                            for s in samples):
            raise ValueError('Audit mode scores ground-truth masks, but the '
                             f'{args.split} set has none (no LoadAnnotations '
                             'in its pipeline?).')
        view = gan_view(model, data_batch)
        stats = image_statistics(view)
        results = model.postprocess_result(view.logits, view.samples)
        panels = None
        for j, (st, res) in enumerate(zip(stats, results)):
            rec = dict(
                index=index + j,
                image=osp.basename(res.metainfo.get('img_path', str(index))))
            scores = compute_scores(st, table)
            rec['score'] = scores[args.score]
            rec.update(scores)
            if 'gt_sem_seg' in res:
                rec['miou'] = per_image_miou(
                    _pred_like_gt(res),
                    res.gt_sem_seg.data.squeeze(0).numpy(), num_classes,
                    ignore_index)
            if args.mode == 'audit':
                rec['corrupted'] = int(index + j in corrupt)
                rec['corruption'] = corrupt.get(index + j, '')
                rec['changed_share'] = shares.get(j, 0.0)
            rec.update({f'stat_{k}': v for k, v in st.items()})
            records.append(rec)
            if args.worst:
                key = (-rec['score'], rec['index'])
                if len(heap) < args.worst or key > heap[0][0]:
                    if panels is None:
                        panels = view_panels(view, palette)
                    item = (key, panels[j])
                    if len(heap) < args.worst:
                        heapq.heappush(heap, item)
                    else:
                        heapq.heapreplace(heap, item)
        index += n
    worst = [p for _, p in sorted(heap, key=lambda kp: kp[0], reverse=True)]
    return records, worst


def _pred_like_gt(res):
    """The prediction at the GT's size (mmseg keeps them equal; a config
    that loads GT before its resize would not)."""
    pred = res.pred_sem_seg.data
    gt_shape = res.gt_sem_seg.data.shape[-2:]
    if pred.shape[-2:] != gt_shape:
        pred = torch.nn.functional.interpolate(
            pred[None].float(), size=gt_shape, mode='nearest')[0].long()
    return pred.squeeze(0).cpu().numpy()


def write_csv(path, records):
    order = rank_worst_first([r['score'] for r in records])
    keys = ['rank', 'index', 'image', 'score']
    for r in records:
        keys += [k for k in r if k not in keys]
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=keys, restval='')
        writer.writeheader()
        for rank, i in enumerate(order, 1):
            writer.writerow(dict(records[i], rank=rank))
    return order


def correlations(records, table):
    """Spearman rho of every score with per-image mIoU."""
    miou = [r.get('miou', np.nan) for r in records]
    out = {}
    for name in table:
        if all(name in r for r in records):
            rho, p = spearman([r[name] for r in records], miou)
            out[name] = dict(rho=rho, p=p)
    return out


def audit_metrics(records, table):
    """precision@k and recall@2k of every audit score (k = # corrupted)."""
    flags = [bool(r['corrupted']) for r in records]
    k = sum(flags)
    out = {}
    if not k:
        return out
    for name in table:
        if all(name in r for r in records):
            q = [r[name] for r in records]
            out[name] = dict(
                k=k,
                precision_at_k=precision_at_k(q, flags, k),
                recall_at_2k=recall_at_k(q, flags, min(2 * k, len(q))))
    return out


def scatter_plot(path, records, score_name, corr):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    # The chosen score beside the two controls: the segmentor's entropy and
    # an image statistic that sees neither the mask nor G.
    names = list(dict.fromkeys([score_name, 'entropy', 'image_hf']))
    fig, axes = plt.subplots(
        1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    miou = np.array([r.get('miou', np.nan) for r in records], float)
    for ax, name in zip(axes[0], names):
        x = np.array([r[name] for r in records], float)
        ax.scatter(x, miou, s=12, alpha=0.7)
        ax.set_xlabel(f'{name} (higher = better mask)')
        ax.set_ylabel('per-image mIoU')
        ax.set_title(f'{name}: Spearman rho = {corr[name]["rho"]:.3f}')
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    cfg, model, loader, meta = build(args)
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'mask_quality',
        f'{osp.splitext(osp.basename(args.config))[0]}_{args.mode}')
    os.makedirs(out_dir, exist_ok=True)
    records, worst = score_dataset(args, model, loader, meta['palette'])
    if not records:
        raise RuntimeError(f'The {args.split} set of {args.config} is empty.')
    table = PREDICT_SCORES if args.mode == 'predict' else AUDIT_SCORES
    order = write_csv(osp.join(out_dir, 'scores.csv'), records)
    if worst:
        import mmcv
        captions = [
            _caption(rank, records[i], args.score)
            for rank, i in enumerate(order[:len(worst)], 1)
        ]
        sheet = contact_sheet(worst, captions, max_width=1600)
        mmcv.imwrite(sheet[..., ::-1], osp.join(out_dir, 'worst.png'))
    summary = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        mode=args.mode,
        score=args.score,
        split=args.split,
        num_images=len(records),
        seconds=round(time.time() - start, 1))
    print(f'{args.mode} mode, {len(records)} images, ranking score '
          f'"{args.score}" (higher = better mask)')
    has_miou = any(np.isfinite(r.get('miou', np.nan)) for r in records)
    if has_miou:
        corr = correlations(records, table)
        summary['spearman_vs_miou'] = corr
        print('Spearman rho with per-image mIoU:')
        for name, c in corr.items():
            print(f'  {name:14s} rho={c["rho"]:+.3f}  (p={c["p"]:.2g})')
        if args.mode == 'predict':
            scatter_plot(
                osp.join(out_dir, 'score_vs_miou.png'), records, args.score,
                corr)
    if args.mode == 'audit' and args.corrupt:
        metrics = audit_metrics(records, table)
        summary['audit'] = metrics
        print(f'Corrupted masks found among the worst (k={args.corrupt}):')
        for name, m in metrics.items():
            print(f'  {name:14s} precision@k={m["precision_at_k"]:.3f}  '
                  f'recall@2k={m["recall_at_2k"]:.3f}')
    with open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f'Wrote {out_dir}/scores.csv, worst.png, summary.json' + (
        ', score_vs_miou.png' if has_miou and args.mode == 'predict' else ''))
    return summary


if __name__ == '__main__':
    main()
