"""What the experiment scripts read: mmengine's JSON logs and the machine.

mmengine's ``LoggerHook`` writes every training scalar to
``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per line)
and a test run's metrics to ``<work_dir>/<timestamp>/<timestamp>.json``;
these are read here instead of scraping the text log.
"""
import glob
import json
import os
import os.path as osp
import platform
import re
import subprocess
from typing import List, Optional

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')


def scalar_rows(work_dir: str, has: str, by: str) -> List[dict]:
    """Rows of every run's ``scalars.json`` that hold ``has``.

    One row per ``by`` value (``iter`` or ``step``); when a run was resumed
    its later log's row wins. Sorted by ``by``.
    """
    rows = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if has in r and by in r]
    return sorted({r[by]: r for r in rows}.values(), key=lambda r: r[by])


def read_train_scalars(work_dir: str) -> List[dict]:
    """Per-iteration training scalars of a work dir (all its runs)."""
    return scalar_rows(work_dir, 'iter', 'iter')


def read_val_scalars(work_dir: str) -> List[dict]:
    """Validation metrics (``mIoU`` ...) of a training work dir, by step."""
    return scalar_rows(work_dir, 'mIoU', 'step')


def read_test_metrics(work_dir: str) -> dict:
    """The metrics of the newest ``tools/test.py`` run in ``work_dir``.

    Returns:
        dict: ``aAcc``, ``mIoU``, ``mAcc`` and, when the test ran
        ``PerClassIoUMetric``, ``per_class``.

    Raises:
        FileNotFoundError: No run there wrote its metrics (it failed, or
            was not a test run).
    """
    runs = sorted(d for d in os.listdir(work_dir)
                  if TIMESTAMP.match(d)) if osp.isdir(work_dir) else []
    for ts in reversed(runs):
        path = osp.join(work_dir, ts, f'{ts}.json')
        if osp.isfile(path):
            with open(path) as f:
                metrics = json.load(f)
            if 'mIoU' in metrics:
                return {
                    k: v
                    for k, v in metrics.items()
                    if k in ('aAcc', 'mIoU', 'mAcc', 'per_class')
                }
    raise FileNotFoundError(
        f'No test metrics in {work_dir}: no <timestamp>/<timestamp>.json '
        'with mIoU (did tools/test.py finish there?)')


def cpu_description() -> dict:
    """The CPU and what torch's kernels use on it, in the record's keys.

    Float results differ in the last digits between CPU capabilities
    (AVX2 vs AVX-512), thread counts and versions, so every result records
    these.
    """
    from mmseg_seggan.utils import describe_cpu
    cpu = describe_cpu()
    return dict(
        cpu=cpu['name'],
        cpu_capability=cpu['capability'],
        avx512=cpu['avx512'],
        native_bf16=cpu['native_bf16'],
        nproc=os.cpu_count())


def git_commit(repo: str) -> str:
    """The commit of ``repo`` (with ``-dirty`` when it has changes)."""
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'],
                                cwd=repo,
                                capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '-uno'],
                               cwd=repo,
                               capture_output=True,
                               text=True).stdout.strip()
    except OSError:
        return ''
    return commit + ('-dirty' if dirty else '')


def environment(repo: Optional[str] = None) -> dict:
    """Versions, hardware and commit, for the record of a result."""
    import mmengine
    import mmseg
    import torch
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        mmseg=mmseg.__version__,
        platform=platform.platform(),
        cuda=torch.cuda.is_available())
    env.update(cpu_description())
    if repo:
        env['git_commit'] = git_commit(repo)
    return env
