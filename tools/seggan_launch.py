"""What the tools share: reading a config and launching a run.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP
wrapper gets ``device_ids=[LOCAL_RANK]``, both fatal without CUDA: on a CPU
:func:`setup_cpu_distributed` starts a gloo group instead.
"""
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def load_config(config: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read a config the way mmseg's tools do (CLI > file > file name)."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        check_cfg_options(cfg, cfg_options, config)
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    if launcher != 'none':
        setup_cpu_distributed(cfg)
    return cfg


def check_cfg_options(cfg: Config, cfg_options: dict, config: str) -> None:
    """Refuse ``gan_iters`` / ``finetune_iters`` in --cfg-options: these
    variables of the config were written into other keys when it was read,
    so changing them would change nothing. The error names those keys."""
    from mmseg_seggan.utils import gan_iters_key, gan_iters_of
    wanted = {
        k: cfg_options[k]
        for k in ('gan_iters', 'finetune_iters') if k in cfg_options
    }
    if not wanted:
        return
    given = ' '.join(f'{k}={v}' for k, v in wanted.items())
    key, max_iters = gan_iters_key(cfg), cfg.get('train_cfg',
                                                 {}).get('max_iters')
    if key is None:
        raise ValueError(
            f'--cfg-options {given} would change nothing: {config} has no '
            'SegGAN phases (no model.gan_iters). The length of the run is '
            '`train_cfg.max_iters` (--cfg-options train_cfg.max_iters=N).')
    gan_iters = gan_iters_of(cfg) or 0
    new_gan = wanted.get('gan_iters', gan_iters)
    fix = [f'{key}={new_gan}'] if 'gan_iters' in wanted else []
    new_ft = wanted.get('finetune_iters', (max_iters or 0) - gan_iters)
    if all(isinstance(v, int) for v in (max_iters, new_gan, new_ft)):
        fix.append(f'train_cfg.max_iters={new_gan + new_ft}')
    raise ValueError(
        f'--cfg-options {given} would change nothing: {" and ".join(wanted)}'
        f' {"is a variable" if len(wanted) == 1 else "are variables"} of '
        f'{config}, already written into {key} and train_cfg.max_iters '
        'when the file was read. Set the keys the run reads instead: '
        '--cfg-options ' + ' '.join(fix) + ' (max_iters = GAN pre-training '
        '+ fine-tuning iterations).')


def build_runner(cfg: Config, training: bool = True):
    """The runner the config names (``runner_type``), as mmseg's tools do.

    Args:
        cfg (Config): The whole config.
        training (bool): False for testing: the training parts of ``cfg``
            are set to None, so a test does not take the work dir's lock.
    """
    from mmengine.runner import Runner
    from mmseg.registry import RUNNERS
    if not training:
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler'):
            cfg[key] = None
    return RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)


def setup_cpu_distributed(cfg: Config) -> None:
    """``--launcher pytorch`` without CUDA: a gloo group made here (the
    runner then skips its CUDA-only init), DDP with ``device_ids=None``."""
    if torch.cuda.is_available() or cfg.launcher != 'pytorch':
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    print_log(
        f'Distributed on CPU: gloo backend, rank {torch_dist.get_rank()} of '
        f'{torch_dist.get_world_size()}.',
        logger='current')


def shutdown_distributed() -> None:
    """Tear the process group down before the interpreter exits (at
    interpreter shutdown gloo's threads can abort the finished job)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def set_local_rank_env(local_rank: int) -> None:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)
