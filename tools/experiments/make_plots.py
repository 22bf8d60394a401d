"""Plots of the reproduction protocol (``run_protocol.py``) for docs/.

For each dataset run under ``WORK_ROOT/<dataset>`` this writes:

- ``results_<dataset>_curves.png``: every loss term of every stage against
  the iteration (baseline CE; phase 1 content, adversarial and D losses;
  phase 2 CE, G's reconstruction error and the adversarial term, control
  vs SegGAN, one line per seed);
- ``results_<dataset>_per_class.png``: per-class IoU, baseline vs control
  vs SegGAN (mean over seeds, error bars = sample std);
- ``results_<dataset>_qualitative.png``: image | ground truth | baseline |
  control | SegGAN | G(GT) | G(control) | G(SegGAN) on a few test images
  (like the paper's Fig. 2/3; G is the frozen phase-1 generator).

Example::

    python tools/experiments/make_plots.py camvid stanford-bg
"""
import argparse
import functools
import os
import os.path as osp
import sys
import warnings
from typing import Dict, List

warnings.filterwarnings('ignore')

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from mmseg_seggan.models.utils import one_hot, real_image  # noqa: E402
from protocol.carried_record import add_merge_option  # noqa: E402
from protocol.carried_record import load_record, stage_rows  # noqa: E402
from protocol.summary import format_mean_std, summarize  # noqa: E402
from protocol.summary import parse_stage_name, stage_name  # noqa: E402

ARM_COLORS = {
    'baseline': '#7f7f7f',
    'control': '#1f77b4',
    'seggan': '#d62728',
    'seggan-content': '#ff7f0e',
    'seggan-unet': '#9467bd',
}


def _title(record: dict) -> str:
    return record.get('protocol', record.get('dataset', ''))


def gan_stages(record: dict) -> List[str]:
    """The phase-1 stages: ``gan_pretrain`` or ``gan_pretrain_ganG``."""
    return sorted(k for k in record['stages'] if k.startswith('gan_pretrain'))


def first_pair(record: dict) -> tuple:
    """(phase-1 seed, phase-2 seed) of the first SegGAN run."""
    runs = sorted(
        parse_stage_name(n)[1:] for n in record['stages']
        if (parse_stage_name(n) or ('', ))[0] == 'seggan')
    return runs[0] if runs else (None, None)


def _series(rows: List[dict], key: str, smooth: int = 3):
    pts = [(r['iter'], r[key]) for r in rows if key in r]
    if not pts:
        return None, None
    x, y = map(np.asarray, zip(*pts))
    if smooth > 1 and len(y) > smooth:
        y = np.convolve(y, np.ones(smooth) / smooth, mode='valid')
        x = x[smooth - 1:]
    return x, y


def plot_curves(record: dict, out: str) -> None:
    stages = record['stages']
    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    ax = axes[0, 0]
    rows = stage_rows(stages['baseline'], 'train')
    for key, ls in (('decode.loss_ce', '-'), ('aux.loss_ce', ':')):
        x, y = _series(rows, key)
        if x is not None:
            ax.plot(x, y, ls, color=ARM_COLORS['baseline'], label=key)
    ax.set_title('Baseline: cross-entropy')
    ax.set_xlabel('iteration')
    val = stage_rows(stages['baseline'], 'val')
    if val:  # the plateau the baseline was trained to
        ax2 = ax.twinx()
        ax2.plot([r['step'] for r in val], [r['mIoU'] for r in val],
                 'o-',
                 color='#2ca02c',
                 label='val mIoU')
        ax2.set_ylabel('val mIoU', color='#2ca02c')
        ax2.legend(fontsize=7, loc='center right')
    ax.legend(fontsize=7, loc='upper center')
    styles = ('-', '--', ':', '-.')
    for i, name in enumerate(gan_stages(record)):
        rows = stage_rows(stages[name], 'train')
        tag = name[len('gan_pretrain_'):] or 'phase 1'
        for key, color in (('loss_content', 'C0'), ('loss_adv', 'C1'),
                           ('loss_d', 'C2')):
            x, y = _series(rows, key)
            if x is not None:
                axes[0, 1].plot(
                    x, y, styles[i % 4], color=color, label=f'{key} {tag}')
        x, y = _series(rows, 'recon_mse')
        if x is not None:
            axes[0, 2].plot(x, y, styles[i % 4], color='k', label=tag)
    if axes[0, 1].lines:
        axes[0, 1].set_yscale('log')
    for ax in axes[0, 1:]:
        if not ax.lines:  # compare.py --gan-checkpoint: phase 1 given
            note = 'phase 1 not run here:\nG and D from a given checkpoint'
            ax.text(
                0.5,
                0.5,
                note,
                ha='center',
                va='center',
                fontsize=9,
                transform=ax.transAxes)
    axes[0, 1].set_title('Phase 1 (G, D on GT masks)')
    axes[0, 1].legend(fontsize=6)
    axes[0, 2].set_title('Phase 1: recon MSE of G(GT)')
    axes[0, 2].legend(fontsize=6)
    panels = [(axes[1, 0], 'decode.loss_ce', 'Phase 2: cross-entropy'),
              (axes[1, 1], 'recon_mse', 'Phase 2: recon MSE of G(pred)'),
              (axes[1, 2], 'loss_adv', 'Phase 2: adversarial term')]
    runs = {}  # one legend entry per arm, with its number of runs
    for name in sorted(stages):
        parsed = parse_stage_name(name)
        if parsed and parsed[0] in ARM_COLORS and parsed[0] != 'baseline':
            runs.setdefault(parsed[0], []).append(name)
    for arm, names in runs.items():
        for i, name in enumerate(names):
            rows = stage_rows(stages[name], 'train')
            for ax, key, _ in panels:
                x, y = _series(rows, key)
                if x is not None:
                    ax.plot(
                        x,
                        y,
                        color=ARM_COLORS[arm],
                        alpha=0.7,
                        lw=1,
                        label=f'{arm} ({len(names)} runs)' if i == 0 else None)
    for ax, _, title in panels:
        ax.set_title(title)
        ax.set_xlabel('iteration')
    axes[1, 0].legend(fontsize=6)
    axes[1, 2].text(
        0.02,
        0.02, 'weighted (x0.1); the control (weights 0) '
        'logs no GAN terms',
        transform=axes[1, 2].transAxes,
        fontsize=6)
    fig.suptitle(
        f'{_title(record)}: training curves (moving average of '
        '3 log points)',
        fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=72)
    plt.close(fig)


def plot_per_class(record: dict, out: str) -> bool:
    """Per-class IoU of every tested arm; False (nothing drawn) until one
    stage (the baseline at least) has been tested."""
    s = record['summary']
    arms = [a for a in ARM_COLORS if a in s and 'per_class_IoU' in s[a]]
    if not arms:
        return False
    classes = list(s[arms[0]]['per_class_IoU'])
    x = np.arange(len(classes))
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for i, arm in enumerate(arms):
        pc = s[arm]['per_class_IoU']
        ax.bar(
            x + (i - (len(arms) - 1) / 2) * width,
            [pc[c]['mean'] for c in classes],
            width,
            yerr=[pc[c]['std'] for c in classes],
            capsize=2,
            color=ARM_COLORS[arm],
            label=f'{arm}: mIoU {format_mean_std(s[arm]["mIoU"], count=True)}')
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=30, ha='right', fontsize=8)
    ax.set_ylabel('IoU (%)')
    ax.set_title(f'{_title(record)}: per-class IoU (mean ± std over '
                 'seeds)',
                 fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=72)
    plt.close(fig)
    return True


def _to_rgb(ts, rgb_inputs: bool) -> list:
    """[-1, 1] (1, 3, H, W) tensors -> uint8 HWC RGB arrays."""
    out = []
    for t in ts:
        a = ((t[0].clamp(-1, 1) + 1) * 127.5).byte().permute(1, 2, 0)
        a = a.numpy()
        out.append(a if rgb_inputs else a[..., ::-1])
    return out


def _colour(labels, palette: np.ndarray) -> list:
    """(1, H, W) label tensors -> palette colours (void black)."""
    out = []
    for lab in labels:
        lab = lab[0].numpy()
        rgb = np.zeros(lab.shape + (3, ), np.uint8)
        valid = lab < len(palette)
        rgb[valid] = palette[lab[valid]]
        out.append(rgb)
    return out


def _grid(columns: list, out: str, title: str) -> None:
    """A figure of image columns ``[(title, [HWC arrays])]``."""
    rows = len(columns[0][1])
    h, w = columns[0][1][0].shape[:2]
    fig, axes = plt.subplots(
        rows,
        len(columns),
        figsize=(1.6 * len(columns), 1.6 * rows * h / w + 0.4))
    axes = np.atleast_2d(axes)
    for c, (name, imgs) in enumerate(columns):
        for r in range(rows):
            axes[r, c].imshow(imgs[r])
            axes[r, c].axis('off')
        axes[0, c].set_title(name, fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def _test_batches(cfg, model, num: int) -> tuple:
    """``num`` evenly spread test images, preprocessed one at a time
    (resized test images may differ in size); and the palette."""
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    palette = np.asarray(dataset.metainfo['palette'], dtype=np.uint8)
    idx = np.linspace(0, len(dataset) - 1, num + 2)[1:-1].astype(int)
    return [
        model.data_preprocessor(pseudo_collate([dataset[int(i)]]), False)
        for i in idx
    ], palette


def plot_generators(record: dict, out: str, num: int = 3) -> bool:
    """The plain and the U-Net G painting the same ground-truth masks.

    Each phase-1 checkpoint's G (first phase-1 seed) paints the one-hot
    ground truth of the same test images; beside each painting its RMS
    error to the image (black 0, white 1 on the [-1, 1] scale). Returns
    False (and draws nothing) until both phase-1 stages have finished.
    """
    import torch
    import torch.nn.functional as F
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import mmseg_seggan  # noqa: F401  (compat + safe checkpoint loading)
    register_all_modules(init_default_scope=True)
    stages = record['stages']
    plain = sorted(n for n in stages if n.startswith('gan_pretrain_gan'))
    unet = sorted(n for n in stages if n.startswith('gan_pretrain-unet_'))
    names = [n[0] for n in (plain, unet) if n]
    if len(names) < 2 or not all(
            osp.isfile(stages[n].get('checkpoint', '')) for n in names):
        return False
    columns, images, gts = [], None, None
    for label, name in zip(('plain G', 'U-Net G'), names):
        cfg = Config.fromfile(stages[name]['config_dump'])
        model = MODELS.build(cfg.model)
        load_checkpoint(
            model,
            stages[name]['checkpoint'],
            map_location='cpu',
            strict=False,
            logger='silent')
        model.eval()
        batches, palette = _test_batches(cfg, model, num)
        rgb = cfg.model.data_preprocessor.get('bgr_to_rgb', False)
        with torch.no_grad():
            if images is None:
                images = [
                    real_image(b['inputs'], model.data_preprocessor)
                    for b in batches
                ]
                # a test pipeline that resizes the image keeps the mask at
                # the original size (CamVid: 180x240 vs 360x480); G paints
                # at the mask's size, so bring the mask to the image's
                gts = [
                    F.interpolate(
                        b['data_samples'][0].gt_sem_seg.data[None].float(),
                        size=i.shape[-2:],
                        mode='nearest').long()
                    for b, i in zip(batches, images)
                ]
                columns += [('image', _to_rgb(images, rgb)),
                            ('ground truth',
                             _colour([g[0] for g in gts], palette))]
            paint = [
                model.generator(
                    one_hot(g[:, 0], model.num_classes, model.ignore_index))
                for g in gts
            ]
        err = [((p - i)**2).mean(1, keepdim=True).sqrt().clamp(0, 1)
               for p, i in zip(paint, images)]
        mse = np.mean([((p - i)**2).mean().item()
                       for p, i in zip(paint, images)])
        columns += [
            (f'{label}(GT), MSE {mse:.3f}', _to_rgb(paint, rgb)),
            (f'{label} error',
             [(e[0, 0].numpy() * 255).astype(np.uint8)[..., None].repeat(3, 2)
              for e in err])
        ]
    _grid(
        columns, out, f'{_title(record)}: the two generators paint the '
        'same ground-truth masks (phase-1 seed '
        f'{names[0].rsplit("gan", 1)[1]})')
    return True


def plot_qualitative(record: dict, out: str, num: int = 3) -> bool:
    """Predictions of each arm (seed of the first run) and G's paintings.

    Returns False (and draws nothing) until the baseline, the first SegGAN
    run and its control have finished.
    """
    stages = record['stages']
    gan, seed = first_pair(record)
    if seed is None:
        return False
    names = ['baseline', stage_name('control', seed)]
    names.append(stage_name('seggan', seed, gan))
    if not all(
            osp.isfile(stages.get(n, {}).get('checkpoint', ''))
            for n in names):
        return False
    import torch
    import torch.nn.functional as F
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import mmseg_seggan  # noqa: F401  (compat + safe checkpoint loading)
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(stages[stage_name('seggan', seed,
                                            gan)]['config_dump'])
    model = MODELS.build(cfg.model)
    model.set_phase(2)
    model.eval()
    batches, palette = _test_batches(cfg, model, num)
    arms = (('baseline', 'baseline'), ('control', stage_name('control', seed)),
            ('seggan', stage_name('seggan', seed, gan)))
    probs: Dict[str, list] = {arm: [] for arm, _ in arms}
    gts, images = [], []
    with torch.no_grad():
        for arm, name in arms:
            load_checkpoint(
                model,
                stages[name]['checkpoint'],
                map_location='cpu',
                strict=False,
                logger='silent')
            for data in batches:
                metas = [s.metainfo for s in data['data_samples']]
                probs[arm].append(
                    model.encode_decode(data['inputs'], metas).softmax(1))
        for data in batches:
            h, w = data['inputs'].shape[-2:]
            gt = data['data_samples'][0].gt_sem_seg.data[None].float()
            gts.append(
                F.interpolate(gt, size=(h, w), mode='nearest')[:, 0].long())
            images.append(real_image(data['inputs'], model.data_preprocessor))
        # G is frozen in phase 2: the SegGAN checkpoint holds the phase-1 G.
        paint = {
            'G(GT)': [
                model.generator(
                    one_hot(g, model.num_classes, model.ignore_index))
                for g in gts
            ],
            'G(control)': [model.generator(p) for p in probs['control']],
            'G(SegGAN)': [model.generator(p) for p in probs['seggan']],
        }

    rgb_inputs = cfg.model.data_preprocessor.get('bgr_to_rgb', False)
    to_rgb = functools.partial(_to_rgb, rgb_inputs=rgb_inputs)
    colour = functools.partial(_colour, palette=palette)
    columns = [('image', to_rgb(images)), ('ground truth', colour(gts))]
    columns += [(arm if arm != 'seggan' else 'SegGAN',
                 colour([p.argmax(1) for p in ps]))
                for arm, ps in probs.items()]
    columns += [(k, to_rgb(v)) for k, v in paint.items()]
    _grid(
        columns, out, f'{_title(record)} test images: predictions (seed '
        f'{seed}) and the frozen G painting from masks')
    return True


def main(argv=None) -> List[str]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+')
    parser.add_argument('--work-root', default='work_dirs/protocol')
    parser.add_argument('--out-dir', default='docs')
    parser.add_argument('--num-images', type=int, default=3)
    add_merge_option(parser,
                     'curves and per-class results; images need checkpoints')
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for ds in args.datasets:
        record = load_record(args.work_root, ds, args.merge)
        record['summary'] = summarize(record)
        base = osp.join(args.out_dir, f'results_{ds}')
        plot_curves(record, base + '_curves.png')
        written.append(base + '_curves.png')
        # A partial protocol: draw what its finished stages allow.
        later = (
            ('_per_class.png', plot_per_class, (), 'no stage tested yet'),
            ('_qualitative.png', plot_qualitative, (args.num_images, ),
             'the baseline, the first SegGAN run and its control have '
             'not all finished with their checkpoints on this machine'),
            ('_generators.png', plot_generators, (args.num_images, ),
             'phase 1 of the plain and of the U-Net G have not both '
             'finished with their checkpoints on this machine'),
        )
        for suffix, plot, extra, why in later:
            if plot(record, base + suffix, *extra):
                written.append(base + suffix)
            else:
                print(f'{base + suffix}: not drawn: {why}')
    for path in written:
        print(f'{path}: {os.path.getsize(path) // 1024} KB')
    return written


if __name__ == '__main__':
    main()
