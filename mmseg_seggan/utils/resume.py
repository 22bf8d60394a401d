"""``--resume`` that survives a damaged latest checkpoint.

mmengine's ``Runner.load_or_resume`` resumes from whatever file
``<work_dir>/last_checkpoint`` names and fails if that file cannot be read.
:func:`find_resumable_checkpoint` takes its place: it checks the named file
with the safe loader and, if it is truncated, corrupt or missing, falls back
to the newest good ``iter_*.pth`` / ``epoch_*.pth`` beside it, with a
warning that names both files. A file that carries pickled code is never
skipped over quietly: :class:`UnsafeCheckpointError` stops the run.

With atomic saves (:mod:`.atomic_checkpoint`) the named file is always
complete; the fallback is for damage from outside (a disk error, an
interrupted copy) and for checkpoints written without this package.
"""
import logging
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from .atomic_checkpoint import LAST_CHECKPOINT, temp_target
from .checkpoint import CorruptCheckpointError, load_checkpoint_file

_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def _is_local(path: str) -> bool:
    return '://' not in path


def _problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or None if it can.

    Raises:
        UnsafeCheckpointError: The file carries pickled code.
    """
    try:
        ckpt = load_checkpoint_file(path, map_location='cpu')
    except (FileNotFoundError, CorruptCheckpointError) as e:
        return str(e)
    # UnsafeCheckpointError propagates: refuse, never skip over it.
    if not isinstance(ckpt, dict) or 'meta' not in ckpt:
        return (f'{path} holds no training state (no `meta`): it is a '
                'weights-only file, not a checkpoint to resume from.')
    return None


def _candidates(dirs: List[str], exclude: Optional[str]) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` in ``dirs``, newest step first."""
    found: List[Tuple[int, float, str]] = []
    seen = set()
    for d in dirs:
        if not osp.isdir(d):
            continue
        for name in os.listdir(d):
            m = _CKPT_NAME.match(name)
            path = osp.abspath(osp.join(d, name))
            if not m or path in seen or (exclude and path == exclude):
                continue
            seen.add(path)
            found.append((int(m.group(1)), osp.getmtime(path), path))
    found.sort(reverse=True)
    return [p for _, _, p in found]


def _remove_unfinished_writes(work_dir: str) -> None:
    """Delete temporary files that a killed run left mid-save.

    Only in this run's own work dir: the folder that ``last_checkpoint``
    names may be another run's (a copied work dir), and a ``.tmp`` there
    may be that run's checkpoint being written right now.
    """
    if not is_main_process() or not osp.isdir(work_dir):
        return
    for name in os.listdir(work_dir):
        target = temp_target(name)
        if target and (_CKPT_NAME.match(target) or target == LAST_CHECKPOINT):
            path = osp.join(work_dir, name)
            try:
                os.remove(path)
            except OSError:
                continue
            print_log(
                f'Removed {path}: an unfinished checkpoint write of an '
                'interrupted run (the file it would have become was '
                'never used).',
                logger='current')


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` should load from ``work_dir``.

    What :meth:`SegGANRunner.load_or_resume` uses where mmengine's
    ``Runner`` calls ``find_latest_checkpoint`` (same argument and result).
    Temporary files of unfinished saves are removed from ``work_dir``: the
    runner holds the work dir's lock, so no other run is writing there.

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str or None: The file named by ``last_checkpoint`` if it loads;
        else the newest loadable ``iter_*.pth``/``epoch_*.pth`` (with a
        warning naming both); None if there is nothing to resume from.

    Raises:
        UnsafeCheckpointError: A candidate file carries pickled code.
        CorruptCheckpointError: Checkpoints exist but none can be loaded.
    """
    save_file = osp.join(work_dir, LAST_CHECKPOINT)
    named = None
    if osp.isfile(save_file):
        with open(save_file) as f:
            named = f.read().strip() or None
    if named is not None and not _is_local(named):
        return named  # remote storage: mmengine's behaviour
    if named is not None:
        named = osp.abspath(named)
    dirs = [osp.abspath(work_dir)]
    if named is not None and osp.dirname(named) not in dirs:
        dirs.append(osp.dirname(named))
    _remove_unfinished_writes(dirs[0])  # ours only, never another run's

    reason = None
    if named is not None:
        reason = _problem(named)
        if reason is None:
            return named
    tried = []
    for path in _candidates(dirs, exclude=named):
        problem = _problem(path)
        if problem is None:
            if named is None:
                print_log(
                    f'{save_file} is missing or empty; resuming from the '
                    f'newest checkpoint in the work dir, {path}.',
                    logger='current',
                    level=logging.WARNING)
            else:
                print_log(
                    f'The latest checkpoint {named} (named in {save_file}) '
                    f'cannot be resumed from: {reason} Falling back to the '
                    f'newest good checkpoint, {path}.',
                    logger='current',
                    level=logging.WARNING)
            return path
        tried.append(problem)
    if named is None and not tried:
        print_log(
            'Did not find last_checkpoint to be resumed.', logger='current')
        return None
    details = '\n  '.join(([reason] if reason else []) + tried)
    raise CorruptCheckpointError(
        f'--resume found no loadable checkpoint in {work_dir}:\n  {details}'
        '\nRemove the damaged files (or the whole work dir) and train '
        'without --resume, or pass a good checkpoint with '
        '`--cfg-options load_from=PATH`.')


__all__ = ['find_resumable_checkpoint']
