"""What ``--resume`` loads. mmengine writes ``last_checkpoint`` with a plain
``open`` (a kill can empty it): an unusable one falls back, warning."""
import logging
import os
import os.path as osp
import re
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from .atomic_checkpoint import temp_target
from .checkpoint import CorruptCheckpointError

_CKPT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The file ``last_checkpoint`` names, else the newest ``iter_*.pth``,
    else None; temporary files of a killed save are removed.

    Raises:
        CorruptCheckpointError: Unusable pointer, nothing to fall back to.
    """
    if not osp.isdir(work_dir):
        return None
    for name in os.listdir(work_dir) if is_main_process() else []:
        if temp_target(name):
            os.remove(osp.join(work_dir, name))
            print_log(
                f'Removed {osp.join(work_dir, name)}: an unfinished '
                'checkpoint write of an interrupted run.',
                logger='current')
    pointer = osp.join(work_dir, 'last_checkpoint')
    named, problem = '', 'does not exist'
    if osp.exists(pointer):
        try:
            with open(pointer, 'rb') as f:
                named = f.read().decode('utf-8').strip()
            problem = 'is empty'
        except (OSError, UnicodeDecodeError) as e:
            problem = f'cannot be read ({type(e).__name__}: {e})'
    if named and ('://' in named or osp.isfile(named)):
        return named
    if named:
        problem = f'names {named}, which does not exist'
    found = [(int(m[1]), n) for n in os.listdir(work_dir)
             if (m := _CKPT_NAME.match(n))]
    if not found and not osp.exists(pointer):
        return None  # nothing to resume: mmengine's behaviour
    if not found:
        raise CorruptCheckpointError(
            f'--resume: {pointer} {problem}, and {work_dir} holds no '
            'iter_*.pth / epoch_*.pth to resume from. Delete that file to '
            'train from the start, or pass a checkpoint with '
            '`--cfg-options load_from=PATH`.')
    newest = osp.join(work_dir, max(found)[1])
    print_log(
        f'{pointer} {problem}; resuming from the newest checkpoint in the '
        f'work dir, {newest}.',
        logger='current',
        level=logging.WARNING)
    return newest
