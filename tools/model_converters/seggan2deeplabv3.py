"""Convert a SegGAN checkpoint into a plain mmseg checkpoint.

Keeps the segmentor's weights only (no generator/discriminator bytes, no
optimizer or message hub), so mmseg's own ``init_model`` loads it with the
plain DeepLabV3 config, strictly, and predicts bit-identically.

Example:
    python tools/model_converters/seggan2deeplabv3.py \
        work_dirs/seggan_toy/iter_600.pth deeplabv3_from_seggan.pth
"""
import argparse
import os
import os.path as osp
import tempfile
import warnings
from collections import OrderedDict

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import torch  # noqa: E402

from mmseg_seggan.utils import load_checkpoint_file  # noqa: E402

GAN_PREFIXES = ('generator.', 'discriminator.')


def convert(src: str, dst: str) -> dict:
    """Write the segmentor part of ``src`` to ``dst`` (atomically).

    Returns:
        dict: Counts of kept and dropped tensors.
    """
    if osp.abspath(src) == osp.abspath(dst):
        raise ValueError('SRC and DST are the same file; refusing to '
                         f'overwrite the SegGAN checkpoint {src}.')
    ckpt = load_checkpoint_file(src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state:
        raise ValueError(f'{src} holds no state_dict: is it a checkpoint '
                         'written by tools/train.py?')
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
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=osp.dirname(osp.abspath(dst)), suffix='.tmp')
    os.close(fd)
    try:
        torch.save(dict(state_dict=kept, meta=meta), tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return dict(kept=len(kept), dropped=dropped)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a SegGAN checkpoint to a plain mmseg one')
    parser.add_argument('src', help='SegGAN checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    return parser.parse_args()


def main():
    args = parse_args()
    counts = convert(args.src, args.dst)
    print(f'Wrote {args.dst}: {counts["kept"]} segmentor tensors kept, '
          f'{counts["dropped"]} generator/discriminator tensors dropped.')


if __name__ == '__main__':
    main()
