"""Does SegGAN help my segmentor? One command from your own mmseg config.

From ``CONFIG`` (any mmseg ``EncoderDecoder`` config: one of the mmseg
wheel's ``.mim/configs`` re-pointed at your data with ``--cfg-options``, or
one of this repository's) and optionally its trained checkpoint, this
derives and runs, on the protocol engine of ``run_protocol.py``
(resumable, every stage identified by its resolved config, flags, threads,
precision, input checkpoints, data and code)::

    baseline             CONFIG as it is (--baseline-iters: shortened, its
                         LR schedule with it); skipped with --checkpoint
    gan_pretrain_ganG    phase 1: G and D on the ground-truth masks
    control_seedS        CE-only control: phase 2 with both GAN terms at 0
    seggan_ganG_seedS    SegGAN: phase 2, the segmentor fine-tuned through
                         the frozen G and D of phase-1 seed G
    */test               tools/test.py: every segmentor, per-class IoU

and prints the paired table (each SegGAN run minus the control of its
phase-2 seed) and a one-line verdict: mean ± std of SegGAN - control, n and
how many pairs went each way; ``<work-root>/<name>/`` gets
``summary.md``, the record ``protocol.json`` and the curves
(``curves.png``, ``per_class.png``).

The SegGAN runs are derived from CONFIG programmatically (written to
``<work-root>/<name>/configs/``): the model becomes ``type='SegGAN'`` with
the generator, discriminator and loss weights of
``configs/_base_/seggan_defaults.py``, run by ``SegGANRunner`` with the
phase hook; G, D and the segmentor get that file's optimizers (the paper's
Adam: the segmentor's fine-tuning is the same for both arms), constant
learning rates, no validation (each run is tested once). The control is
the SegGAN config with both phase-2 GAN loss weights at 0.

Examples::

    # mmseg's PSPNet-R18 on your data, trained here first:
    python tools/experiments/compare.py \\
        $(python -c 'import mmseg, os; print(os.path.dirname(mmseg.__file__))'
        )/.mim/configs/pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py \\
        --cfg-options train_dataloader.dataset.data_root=... \\
        --baseline-iters 3000 --gan-seeds 0 --seeds 0 1 2
    # a segmentor you trained already:
    python tools/experiments/compare.py CONFIG --checkpoint iter_3000.pth

``--cfg-options`` apply to every run (data roots, batch size, classes);
``--seggan-options`` to the derived SegGAN runs only (G and D widths, loss
weights). Relative paths inside configs are read from the repository (the
runs start there).
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import List, Optional

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)  # ./protocol, ./make_plots.py
from protocol.engine import (Protocol, add_run_options,  # noqa: E402
                             parse_options, protocol_from_args, run_protocol)
from protocol.seggan_protocol import build, finish  # noqa: E402
from protocol.summary import format_mean_std  # noqa: E402

DEFAULTS = osp.join(REPO, 'configs', '_base_', 'seggan_defaults.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument('config', help='your segmentor config')
    parser.add_argument(
        '--checkpoint',
        help='your trained segmentor (its baseline is not trained again)')
    parser.add_argument(
        '--gan-checkpoint',
        help='a phase-1 checkpoint (generator.* and discriminator.*, same G '
        'and D and data) of an earlier comparison or protocol: phase 1 of the '
        'first --gan-seeds seed is not trained again (phase 1 never runs '
        'the segmentor, so another head can reuse it)')
    parser.add_argument(
        '--name', help='name of the comparison (default: the config\'s)')
    parser.add_argument('--work-root', default='work_dirs/compare')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='phase-2 seeds: one control and one SegGAN run '
        'per phase-1 seed each (default 0 1 2)')
    parser.add_argument(
        '--gan-seeds',
        type=int,
        nargs='+',
        default=[0],
        help='phase-1 seeds (default 0)')
    parser.add_argument('--base-seed', type=int, default=0)
    parser.add_argument(
        '--baseline-iters',
        type=int,
        help='train the baseline this long (default: CONFIG\'s schedule)')
    parser.add_argument(
        '--gan-iters',
        type=int,
        default=2000,
        help='phase-1 iterations (default %(default)s)')
    parser.add_argument(
        '--finetune-iters',
        type=int,
        default=300,
        help='phase-2 iterations (default %(default)s)')
    parser.add_argument(
        '--seggan-options',
        nargs='+',
        default=[],
        help='KEY=VALUE overrides of the SegGAN runs only')
    add_run_options(parser)
    a = parser.parse_args(argv)
    for path in (a.config, a.checkpoint, a.gan_checkpoint):
        if path and not osp.isfile(path):
            parser.error(f'{path}: no such file')
    a.config = osp.abspath(a.config)
    a.checkpoint = a.checkpoint and osp.abspath(a.checkpoint)
    a.gan_checkpoint = a.gan_checkpoint and osp.abspath(a.gan_checkpoint)
    a.name = a.name or osp.splitext(osp.basename(a.config))[0]
    for n in ('baseline_iters', 'gan_iters', 'finetune_iters'):
        if getattr(a, n) is not None and getattr(a, n) < 1:
            parser.error(f'--{n.replace("_", "-")} must be >= 1')
    return a


def _schedule(cfg, iters: int) -> None:
    """Shorten (or lengthen) an iteration schedule to ``iters``, the LR
    schedulers that ended with it ending with it still."""
    old = cfg.train_cfg.get('max_iters')
    for sched in cfg.get('param_scheduler') or []:
        if old is not None and sched.get('end') == old:
            sched['end'] = iters
    cfg.train_cfg.max_iters = iters


def _final_checkpoint(cfg, iters: int) -> None:
    """``iter_<iters>.pth`` kept at the end, whatever the interval."""
    hooks = cfg.setdefault('default_hooks', {})
    ckpt = hooks.get('checkpoint') or dict(type='CheckpointHook')
    ckpt.update(by_epoch=False, save_last=True)
    hooks['checkpoint'] = ckpt


def derive(config: str, a: argparse.Namespace) -> dict:
    """The four configs of the comparison, derived from ``config``.

    Raises:
        SystemExit: ``config`` is no iteration-based EncoderDecoder config.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    model_type = cfg.model.get('type')
    if model_type != 'EncoderDecoder':
        raise SystemExit(
            f'{config}: model.type is {model_type!r}; compare.py derives '
            'SegGAN from a plain EncoderDecoder segmentor (SegGAN is one). ' +
            ('Give the segmentor config, not a SegGAN one.' if model_type ==
             'SegGAN' else
             'Cascade segmentors (OCRNet) and others are not supported.'))
    if cfg.train_cfg.get('type', 'IterBasedTrainLoop') != \
            'IterBasedTrainLoop':
        raise SystemExit(
            f'{config}: train_cfg.type is {cfg.train_cfg.type!r}; '
            'compare.py needs an iteration-based schedule '
            '(IterBasedTrainLoop, as mmseg\'s configs have).')
    defaults = Config.fromfile(DEFAULTS)
    base = copy.deepcopy(cfg)
    if a.baseline_iters:
        _schedule(base, a.baseline_iters)
    _final_checkpoint(base, base.train_cfg.max_iters)

    def seggan(iters: int, gan_iters: int, control: bool = False) -> Config:
        c = copy.deepcopy(cfg)
        c.model = dict(
            c.model,
            **copy.deepcopy(defaults.seggan_model),
            gan_iters=gan_iters)
        if control:  # both phase-2 GAN terms at 0
            for key in ('content', 'adv'):
                if f'phase2_{key}_loss' in c.model:  # loss modules
                    c.model[f'phase2_{key}_loss']['loss_weight'] = 0.
                else:  # the older scalar weights
                    c.model[f'{key}_weight'] = 0.
        imports = list(c.get('custom_imports', {}).get('imports', []))
        c.custom_imports = dict(
            imports=sorted(set(imports + ['mmseg_seggan'])),
            allow_failed_imports=False)
        c.runner_type = 'SegGANRunner'
        ow = copy.deepcopy(defaults.seggan_optim_wrapper)
        ow.pop('_delete_', None)
        c.optim_wrapper = ow
        c.log_processor = copy.deepcopy(defaults.seggan_log_processor)
        c.model_wrapper_cfg = copy.deepcopy(defaults.seggan_model_wrapper_cfg)
        c.param_scheduler = []  # constant learning rates (the paper's)
        hook = dict(type='SegGANPhaseHook')
        if gan_iters == iters:  # phase 1 only, said so (else refused)
            hook['gan_pretrain_only'] = True
        c.custom_hooks = [
            h for h in c.get('custom_hooks') or []
            if h.get('type') != 'SegGANPhaseHook'
        ] + [hook]
        c.train_cfg = dict(
            type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
        c.val_cfg = c.val_dataloader = c.val_evaluator = None
        _final_checkpoint(c, iters)
        c.default_hooks.checkpoint.update(interval=iters, max_keep_ckpts=1)
        if a.seggan_options:
            c.merge_from_dict(parse_options(a.seggan_options))
        return c

    return dict(
        baseline=base,
        gan_pretrain=seggan(a.gan_iters, a.gan_iters),
        finetune=seggan(a.finetune_iters, 0),
        control=seggan(a.finetune_iters, 0, control=True))


def write_configs(configs: dict, folder: str, source: str) -> dict:
    """Each derived config as a file in ``folder``; their paths."""
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for key, cfg in configs.items():
        path = osp.join(folder, f'{key}.py')
        text = (f'# Derived by tools/experiments/compare.py from {source}\n' +
                cfg.pretty_text)
        if not osp.isfile(path) or open(path).read() != text:
            with open(path, 'w') as f:
                f.write(text)
        paths[key] = path
    return paths


def verdict(record: dict) -> str:
    """One line: SegGAN - control over the pairs, n, and their signs."""
    e = record.get('summary', {}).get('seggan', {}).get('paired')
    if not e:
        return 'Verdict: no finished SegGAN/control pair yet.'
    values = e['values']
    up = sum(v > 0 for v in values)
    down = sum(v < 0 for v in values)
    return (f'Verdict: SegGAN - control = '
            f'{format_mean_std(e, signed=True)} mIoU (n={e["n"]} pairs; '
            f'SegGAN higher in {up}, lower in {down}, equal in '
            f'{len(values) - up - down}).')


def plot(p: Protocol) -> List[str]:
    """Training curves and per-class IoU (make_plots.py's figures)."""
    import make_plots
    out = [osp.join(p.root, 'curves.png'), osp.join(p.root, 'per_class.png')]
    make_plots.plot_curves(p.record, out[0])
    if not make_plots.plot_per_class(p.record, out[1]):
        out.pop()
    return out


def main(argv: Optional[List[str]] = None) -> dict:
    a = parse_args(argv)
    root = osp.abspath(osp.join(a.work_root, a.name))
    p, invocation = protocol_from_args(
        a,
        root,
        REPO,
        a.name,
        argv,
        rerun_hint='Give the new settings another --work-root or --name, '
        'or move the old work dir away to retrain.')
    invocation.update(
        config=a.config,
        checkpoint=a.checkpoint,
        gan_checkpoint=a.gan_checkpoint,
        seggan_options=a.seggan_options)

    def build_all(p: Protocol) -> None:
        folder = osp.join(root, 'configs')
        if a.dry_run:  # writes nothing under the work root
            import tempfile
            folder = tempfile.mkdtemp(prefix='compare_configs_')
        paths = write_configs(derive(a.config, a), folder, a.config)
        ns = argparse.Namespace(
            **paths,
            cfg_options=a.cfg_options,
            amp=a.amp,
            base_seed=a.base_seed,
            gan_seeds=a.gan_seeds,
            seeds=a.seeds,
            baseline_iters=None,  # (in the derived configs)
            gan_iters=None,
            finetune_iters=None,
            variant=[],
            gan_variant=[],
            gan_variant_seeds=None,
            schedule_check=None,
            baseline_checkpoint=a.checkpoint,
            gan_checkpoint=a.gan_checkpoint)
        p.record['compare'] = dict(
            config=a.config, checkpoint=a.checkpoint, derived=paths)
        build(p, ns)

    def finish_all(p: Protocol) -> None:
        finish(p)
        line = verdict(p.record)
        p.record['verdict'] = line
        p.save()
        with open(osp.join(root, 'summary.md'), 'a') as f:
            f.write(line + '\n')
        print(line)
        print('Curves: ' + ', '.join(plot(p)))

    return run_protocol(p, build_all, invocation, finish_all)


if __name__ == '__main__':
    main()
