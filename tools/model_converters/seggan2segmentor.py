"""Convert a SegGAN checkpoint into a plain mmseg segmentor checkpoint.

Keeps the segmentor's weights only (no generator/discriminator bytes, no
optimizer or message hub), so mmseg's own ``init_model`` loads it with the
segmentor's plain config (DeepLabV3, PSPNet, SegFormer, ... with their
auxiliary heads), strictly, and predicts bit-identically.

Example:
    python tools/model_converters/seggan2segmentor.py \
        work_dirs/seggan_toy/iter_600.pth segmentor_from_seggan.pth

An existing DST is replaced only with ``--force``, and a SegGAN checkpoint
(one with generator/discriminator weights, e.g. SRC and DST swapped) never.
A checkpoint saved before phase 2 began (its segmentor never trained by
SegGAN) is refused unless ``--allow-phase1``.
"""
import argparse
import io
import os.path as osp
import warnings
from collections import OrderedDict

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import torch  # noqa: E402

from mmseg_seggan.utils import (CheckpointError, atomic_write,  # noqa: E402
                                load_checkpoint_file)

GAN_PREFIXES = ('generator.', 'discriminator.')


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (links and ``..`` included)."""
    if osp.realpath(a) == osp.realpath(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _holds_gan_weights(path: str) -> bool:
    """Whether ``path`` is a SegGAN checkpoint (it has G or D weights).

    Read weights-only; a file that cannot be read that way is not one.
    """
    try:
        ckpt = load_checkpoint_file(path, map_location='cpu')
    except (CheckpointError, OSError):
        return False
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    return isinstance(state, dict) and any(
        str(k).startswith(GAN_PREFIXES) for k in state)


def check_destination(src: str, dst: str, force: bool = False) -> None:
    """Refuse to write ``dst`` where that would destroy something.

    Raises:
        ValueError: ``dst`` is ``src`` (also through a link).
        FileExistsError: ``dst`` exists and ``force`` is not set, or ``dst``
            is a SegGAN checkpoint (G/D weights: SRC and DST swapped?),
            which is never overwritten, ``force`` or not.
    """
    if _same_file(src, dst):
        raise ValueError('SRC and DST are the same file; refusing to '
                         f'overwrite the SegGAN checkpoint {src}.')
    if not osp.lexists(dst):
        return
    if _holds_gan_weights(dst):
        raise FileExistsError(
            f'{dst} already exists and holds generator/discriminator weights: '
            'it is a SegGAN checkpoint, which the export never overwrites, '
            'not even with --force. Were SRC and DST swapped? The order is '
            'SEGGAN.pth PLAIN.pth. Choose another DST, or delete that file '
            'yourself if you really mean to replace it.')
    if not force:
        raise FileExistsError(
            f'{dst} already exists; refusing to overwrite it. Choose another '
            'DST, or pass --force to replace it.')


def check_phase2_trained(src: str, ckpt: dict) -> None:
    """Refuse a checkpoint saved before phase 2 began.

    Its segmentor is the one the run started from (the baseline, or random
    weights): SegGAN never trained it. Read from ``meta['seggan']`` (the
    phase hook's record) and the iteration, else from the phase of the last
    iteration in the message hub.

    Raises:
        ValueError: Phase 2 never ran in the run that saved ``src``.
    """
    meta = ckpt.get('meta') or {}
    gan_iters = (meta.get('seggan') or {}).get('gan_iters')
    done = meta.get('iter')
    hub = ckpt.get('message_hub') or {}
    info = (hub.get('runtime_info') or {}) if isinstance(hub, dict) else {}
    if gan_iters is not None and done is not None:
        untrained = done <= gan_iters
    else:
        untrained = info.get('seggan_phase') == 1
    if untrained:
        raise ValueError(
            f'{src} was saved in phase 1 (GAN pre-training; iteration '
            f'{done}, gan_iters={gan_iters}): SegGAN never trained its '
            'segmentor, which is still the one the run started from. Export '
            'a checkpoint saved after phase 2 began, or pass --allow-phase1 '
            'to export this segmentor anyway.')


def convert(src: str,
            dst: str,
            force: bool = False,
            allow_phase1: bool = False) -> dict:
    """Write the segmentor part of ``src`` to ``dst`` (atomically).

    ``dst`` is written to a temporary file beside it and renamed when
    complete (:func:`~mmseg_seggan.utils.atomic_write`), with the mode that
    the umask gives new files (0644 usually): a killed export leaves no
    half ``dst``.

    Args:
        src (str): The SegGAN checkpoint.
        dst (str): The plain checkpoint to write.
        force (bool): Replace an existing ``dst`` (never a SegGAN
            checkpoint; see :func:`check_destination`).
        allow_phase1 (bool): Export a checkpoint saved before phase 2
            (see :func:`check_phase2_trained`).

    Returns:
        dict: Counts of kept and dropped tensors.
    """
    check_destination(src, dst, force)
    ckpt = load_checkpoint_file(src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state:
        raise ValueError(f'{src} holds no state_dict: is it a checkpoint '
                         'written by tools/train.py?')
    if not allow_phase1:
        check_phase2_trained(src, ckpt)
    kept = OrderedDict(
        (k, v) for k, v in state.items() if not k.startswith(GAN_PREFIXES))
    dropped = len(state) - len(kept)
    if dropped == 0:
        warnings.warn(f'{src} has no generator/discriminator weights: it is '
                      'already a plain segmentor checkpoint.')
    meta = dict(ckpt.get('meta', {})) if isinstance(ckpt, dict) else {}
    meta = {
        k: meta[k]
        for k in ('dataset_meta', 'iter', 'epoch', 'mmengine_version')
        if k in meta
    }
    meta['converted_from'] = osp.basename(src)
    buffer = io.BytesIO()
    torch.save(dict(state_dict=kept, meta=meta), buffer)
    atomic_write(dst, buffer.getvalue())
    return dict(kept=len(kept), dropped=dropped)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a SegGAN checkpoint to a plain mmseg one')
    parser.add_argument('src', help='SegGAN checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace DST if it exists (a SegGAN checkpoint never is)')
    parser.add_argument(
        '--allow-phase1',
        action='store_true',
        help='export a checkpoint saved before phase 2 (its segmentor is '
        'the one the run started from)')
    return parser.parse_args()


def main():
    args = parse_args()
    counts = convert(
        args.src, args.dst, force=args.force, allow_phase1=args.allow_phase1)
    print(f'Wrote {args.dst}: {counts["kept"]} segmentor tensors kept, '
          f'{counts["dropped"]} generator/discriminator tensors dropped.')


if __name__ == '__main__':
    main()
