"""What the experiment scripts read: mmengine's JSON logs and the machine.

mmengine's ``LoggerHook`` writes every training scalar to
``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per line)
and a test run's metrics to ``<work_dir>/<timestamp>/<timestamp>.json``;
these are read here instead of scraping the text log.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import platform
import re
import subprocess
from typing import List, Optional

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
#: The key of a record's own digest (of everything else in it).
RECORD_DIGEST = 'record_sha256'


class RecordError(RuntimeError):
    """A record that is not what the protocol wrote (cut short, edited)."""


def record_digest(record: dict) -> str:
    """SHA-256 of a record's content, its own digest left out."""
    body = {k: v for k, v in record.items() if k != RECORD_DIGEST}
    return hashlib.sha256(json.dumps(body,
                                     sort_keys=True).encode()).hexdigest()


def write_record(record: dict, path: str, **dump) -> None:
    """Write ``record`` with its digest, atomically (never half a file)."""
    record[RECORD_DIGEST] = record_digest(record)
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(record, f, **dump)
    os.replace(tmp, path)


def read_record(path: str) -> dict:
    """A record as its writer left it, or an error that says what to do.

    A record without a digest (written before records carried one, like
    the exported ``docs/records/*.json``) is read as it is.

    Raises:
        RecordError: The file is not JSON (cut short) or its content does
            not match its digest (edited by hand).
    """
    rebuild = ('Restore it, or move it away: a rerun of the protocol '
               'rebuilds the record from the stages\' work dirs (their '
               'stage.json and metrics.json); events.jsonl beside it keeps '
               'the history of the attempts.')
    try:
        with open(path) as f:
            record = json.load(f)
    except ValueError as e:
        raise RecordError(f'{path} is not a complete JSON record ({e}): it '
                          f'was cut short or edited. {rebuild}') from None
    digest = record.get(RECORD_DIGEST) if isinstance(record, dict) else 0
    if digest is not None and digest != record_digest(record):
        raise RecordError(
            f'{path} was changed after the protocol wrote it (its content '
            f'does not match its {RECORD_DIGEST}): its results are not '
            f'reported. {rebuild}')
    return record


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
    import mmseg_seggan
    env['mmseg_seggan'] = mmseg_seggan.__version__
    if torch.cuda.is_available():
        env.update(
            device=torch.cuda.get_device_name(0),
            capability='sm_{}{}'.format(*torch.cuda.get_device_capability(0)),
            cuda_version=torch.version.cuda,
            gpu_memory_gib=round(
                torch.cuda.get_device_properties(0).total_memory / 2**30, 1))
    else:
        env.update(device='cpu', capability=env['cpu_capability'])
    if repo:
        env['git_commit'] = git_commit(repo)
    return env
