"""A protocol's results carried off its machine, and pooled on another.

A CPU protocol outlives the machine it starts on (Stanford Background is
about 13 core-hours): its work dirs, checkpoints included, can be lost
between sessions, while its record (``protocol.json``) is small enough to
keep with the results page. :func:`export_record` writes that record with
what a results page needs once the work dirs are gone: every trained
stage's weights digest and the logged scalars (curves). :func:`merge_records`
pools another record's stages into this one only where the pooled table
would hold the same runs as one uninterrupted protocol: the same commit,
versions, CPU capability, threads per run and precision, and every stage
the carried stages started from bit-identical here and there (the same
weights digest: a rerun of the baseline with the same seed on the same
kind of machine reproduces its weights bit for bit, see
``docs/results.md``, "What a rerun reproduces"). Anything else raises
:class:`RecordMismatchError` naming each difference.
"""
import copy
import hashlib
import os.path as osp
from typing import Iterable, List, Optional

from .records import read_record, read_train_scalars, read_val_scalars
from .summary import METRICS

#: What must agree for a carried arm to be the run this machine would train.
POOL_ENVIRONMENT = ('git_commit', 'torch', 'mmengine', 'mmseg',
                    'cpu_capability', 'threads_per_run')


class RecordMismatchError(ValueError):
    """Two records whose stages cannot be pooled into one table."""


def weights_digest(checkpoint: str) -> str:
    """SHA-256 of a checkpoint's weights (``state_dict``) alone.

    The file's own hash differs between two bit-identical runs (mmengine
    stores the time, the work dir and the message hub beside the weights);
    this one covers every tensor's name, dtype, shape and bytes. Loaded
    weights-only (:func:`~mmseg_seggan.utils.checkpoint.load_checkpoint_file`).
    """
    import torch

    from mmseg_seggan.utils.checkpoint import load_checkpoint_file
    ckpt = load_checkpoint_file(checkpoint)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key]
        if not isinstance(t, torch.Tensor):
            continue
        t = t.detach().cpu().contiguous().reshape(-1)
        h.update(f'{key}|{t.dtype}|{tuple(state[key].shape)}|'.encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def add_weight_digests(record: dict) -> dict:
    """Fill ``weights_sha256`` of every trained stage whose checkpoint is
    on this machine (in place; returns the record)."""
    for stage in record.get('stages', {}).values():
        ckpt = stage.get('checkpoint')
        if 'weights_sha256' not in stage and ckpt and osp.isfile(ckpt):
            stage['weights_sha256'] = weights_digest(ckpt)
    return record


def _rounded(rows: List[dict]) -> List[dict]:
    return [{
        k: round(v, 6) if isinstance(v, float) else v
        for k, v in r.items()
    } for r in rows]


def export_record(record: dict) -> dict:
    """The record with weights digests and each stage's logged scalars
    (``train_rows``, ``val_rows``) carried in it."""
    out = add_weight_digests(copy.deepcopy(record))
    for stage in out.get('stages', {}).values():
        work = stage.get('work_dir')
        if work and osp.isdir(work) and 'train_rows' not in stage:
            stage['train_rows'] = _rounded(read_train_scalars(work))
            stage['val_rows'] = _rounded(read_val_scalars(work))
    return out


def stage_rows(stage: dict, kind: str) -> List[dict]:
    """A stage's ``train`` or ``val`` scalars: carried in the record, else
    read from its work dir (empty when neither has them)."""
    if f'{kind}_rows' in stage:
        return stage[f'{kind}_rows']
    work = stage.get('work_dir', '')
    return (read_train_scalars if kind == 'train' else read_val_scalars)(work)


def _environment_differences(base: dict, other: dict) -> List[str]:
    ea, eb = base.get('environment', {}), other.get('environment', {})
    diffs = [
        f'{k}: {ea.get(k)!r} here, {eb.get(k)!r} there'
        for k in POOL_ENVIRONMENT if ea.get(k) != eb.get(k)
    ]
    pa, pb = base.get('precision', 'fp32'), other.get('precision', 'fp32')
    if pa != pb:
        diffs.append(f'precision: {pa!r} here, {pb!r} there')
    if base.get('protocol') != other.get('protocol'):
        diffs.append(f'protocol: {base.get("protocol")!r} here, '
                     f'{other.get("protocol")!r} there')
    return diffs


def merge_records(base: dict, other: dict, source: str) -> dict:
    """``base`` with the stages of ``other`` that it lacks (a new dict).

    Each carried stage is marked ``from_record: source``. A stage in both
    must agree (weights digest, metrics); a carried stage's inputs
    (``identity.inputs``: the checkpoint it started from) must be stages of
    ``base`` with the same weights digest in both records, or stages carried
    from ``other`` as well.

    Raises:
        RecordMismatchError: Every difference that keeps the two apart.
    """
    base = add_weight_digests(copy.deepcopy(base))
    ours, theirs = base.setdefault('stages', {}), other.get('stages', {})
    problems = _environment_differences(base, other)
    carried = {}
    for name, stage in sorted(theirs.items()):
        if name in ours:
            problems += _stage_differences(name, ours[name], stage)
            if 'metrics' in stage and 'metrics' not in ours[name]:
                ours[name]['metrics'] = stage['metrics']
                ours[name]['metrics_from_record'] = source
            continue
        for role, inp in sorted(
                stage.get('identity', {}).get('inputs', {}).items()):
            src = inp.get('stage')
            if src not in ours and src in theirs:
                continue  # carried too: the chain is the other record's
            here = ours.get(src, {}).get('weights_sha256')
            there = theirs.get(src, {}).get('weights_sha256')
            if here is None or there is None or here != there:
                problems.append(
                    f'{name} started from {src} ({role}), whose weights '
                    f'{_what(here, "here")} and {_what(there, "there")}: '
                    'rerun that stage here with the same seed and settings '
                    '(and keep its checkpoint) to verify it')
        carried[name] = dict(stage, from_record=source)
    if problems:
        raise RecordMismatchError(
            f'Cannot pool {source} into this record:\n  - ' +
            '\n  - '.join(problems))
    ours.update(carried)
    base.setdefault('merged_from', []).append(source)
    return base


def _what(digest: Optional[str], where: str) -> str:
    if digest is None:
        return f'have no digest {where} (no checkpoint, not exported)'
    return f'are {digest[:12]}... {where}'


def _stage_differences(name: str, a: dict, b: dict) -> List[str]:
    out = []
    wa, wb = a.get('weights_sha256'), b.get('weights_sha256')
    if wa and wb and wa != wb:
        out.append(f'{name}: weights {wa[:12]}... here, {wb[:12]}... there '
                   '(not the same run)')
    ma, mb = a.get('metrics'), b.get('metrics')
    if ma and mb:
        diff = [
            f'{k} {ma.get(k)} vs {mb.get(k)}' for k in METRICS
            if ma.get(k) != mb.get(k)
        ]
        if diff:
            out.append(f'{name}: tested differently ({", ".join(diff)})')
    return out


def add_merge_option(parser, what: str) -> None:
    """``--merge FILE ...`` of the tools that read a protocol's record."""
    parser.add_argument(
        '--merge',
        nargs='+',
        default=[],
        metavar='FILE',
        help='records exported by export_record.py, pooled in when their '
        f'stages started from bit-identical weights ({what})')


def load_record(work_root: str, name: str, merge: Iterable[str] = ()) -> dict:
    """``<work_root>/<name>/protocol.json``, with the records in ``merge``
    (exported by ``tools/experiments/export_record.py``) pooled in; each
    checked against its digest (:func:`.records.read_record`)."""
    record = read_record(osp.join(work_root, name, 'protocol.json'))
    for other in merge:
        record = merge_records(record, read_record(other), other)
    return record
