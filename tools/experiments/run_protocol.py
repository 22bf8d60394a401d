"""Run the SegGAN reproduction protocol end to end, resumable stage by stage.

The stages, how each is identified (a rerun with other settings refuses
instead of reporting the old result), the lock on the work root and the
record are described in ``tools/experiments/protocol/seggan_protocol.py``
and ``engine.py``.

Examples (the ImageNet-pre-trained protocol of ``docs/results.md``)::

    python tools/experiments/run_protocol.py stanford-bg-lite0 --jobs 2 \\
        --gan-seeds 0 1 --variant content model.adv_weight=0 \\
        --gan-variant unet model.generator.type=SegGANUNetGenerator \\
        --schedule-check 5
    python tools/experiments/run_protocol.py camvid-lite0 --gan-seeds 0 1

Another dataset or schedule: give the four configs and overrides, e.g.
``--baseline CFG --gan-pretrain CFG --finetune CFG --control CFG
--baseline-iters 4 --cfg-options train_dataloader.dataset.data_root=DIR``.
"""
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.seggan_protocol import main  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    os.chdir(REPO)
    main(repo=REPO)
