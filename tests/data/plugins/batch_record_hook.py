"""Test-only hook: record which images each training batch holds.

Imported by the semi-supervised tests through ``custom_imports``; lets a
test compare the batches of a resumed run with an uninterrupted one and
count labeled (with ``gt_sem_seg``) and unlabeled samples per batch.
"""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class BatchRecordHook(Hook):
    """Append ``{iter, images, labeled}`` per iteration to batches.jsonl."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        samples = data_batch['data_samples']
        with open(osp.join(runner.work_dir, 'batches.jsonl'), 'a') as f:
            f.write(
                json.dumps(
                    dict(
                        iter=runner.iter + 1,
                        images=[osp.basename(s.img_path) for s in samples],
                        labeled=['gt_sem_seg' in s for s in samples])) +
                '\n')
