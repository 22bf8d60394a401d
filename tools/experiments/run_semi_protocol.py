"""Semi-supervised SegGAN protocol: four arms on a labeled fraction.

For one dataset and one labeled fraction 1/K (split files written by
``tools/dataset_converters/make_semi_splits.py``), resumable stage by
stage like ``run_protocol.py`` (same record, ``protocol.json``)::

    baseline               labeled images only, from ImageNet
    gan_pretrain_ganG      phase 1 on the labeled images, per phase-1 seed
    control_seedS          (a) CE on the labeled images       } 4 labeled
    seggan_ganG_seedS      (b) SegGAN, GAN terms on labeled   } per batch
    seggan-semi_ganG_seedS (c) SegGAN, GAN terms on labeled + unlabeled
    pseudo-label_seedS     (d) CE + confident pseudo-labels    } 4 + 4
    */test                 the test split -> metrics.json

Arms (a) and (d) use no G or D: they start from the first phase-1
checkpoint (its segmentor is the baseline's, the same for every phase-1
seed) and run once per phase-2 seed. Arms (b) and (c) run on every
phase-1 seed. Each SegGAN arm is paired with the control of the same
phase-2 seed.

Stages, identity and record: ``tools/experiments/protocol/semi_protocol.py``.

Example (both fractions of Stanford Background, as in ``docs/results.md``)::

    python tools/experiments/run_semi_protocol.py stanford-bg --fraction 8
    python tools/experiments/run_semi_protocol.py stanford-bg --fraction 4
"""
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.semi_protocol import main  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    os.chdir(REPO)
    main(repo=REPO)
