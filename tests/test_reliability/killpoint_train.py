"""Run ``tools/train.py`` unchanged, but freeze at a chosen moment.

The kill tests need to send ``SIGKILL`` at moments that are too short to
hit by timing alone (half-way through writing a checkpoint, between the
discriminator's and the generator's update). This launcher patches one
spot, selected by the environment, so that when the process gets there it
writes a marker file and sleeps; the test sees the marker and kills it.
Everything else is the real ``tools/train.py`` in a real process.

Usage::

    SEGGAN_KILLPOINT=save:iter_4.pth SEGGAN_KILLPOINT_MARKER=/tmp/m \\
        python tests/test_reliability/killpoint_train.py CONFIG [train args]

Kill points (``SEGGAN_KILLPOINT``):
    ``mid_iter:N``          after the first optimizer update of iteration N
                            (phase 1: D updated, G not yet).
    ``save:NAME``           half of checkpoint NAME written to its temporary
                            file (the checkpoint save in progress).
    ``last_checkpoint:NAME``  NAME is complete under its final name, and
                            ``last_checkpoint`` is about to be rewritten.
    ``phase_switch``        the first phase-2 iteration, right after the
                            phase hook switched (before its train step).
    (unset)                 no pause: the test kills at a random moment.
"""
import os
import os.path as osp
import runpy
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _freeze(what: str) -> None:
    marker = os.environ['SEGGAN_KILLPOINT_MARKER']
    with open(marker + '.part', 'w') as f:
        f.write(what)
    os.replace(marker + '.part', marker)
    time.sleep(600)
    raise SystemExit(f'killpoint {what}: nobody killed this process')


def _install(spec: str) -> None:
    kind, _, arg = spec.partition(':')
    if kind == 'mid_iter':
        from mmengine.logging import MessageHub
        from mmengine.optim import OptimWrapper
        target = int(arg)
        original = OptimWrapper.update_params

        def update_params(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            it = MessageHub.get_current_instance().get_info('iter')
            if isinstance(it, int) and it + 1 == target:
                _freeze(f'mid_iter:{target}')
            return result

        OptimWrapper.update_params = update_params
    elif kind == 'save':
        # The atomic backend writes the whole checkpoint into its temporary
        # file, then renames it: cut the file to half and freeze before the
        # rename (what a kill half-way through the write leaves).
        from mmseg_seggan.utils.atomic_checkpoint import temp_target
        original_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if temp_target(osp.basename(str(src))) == arg:
                size = os.path.getsize(src)
                os.truncate(src, size // 2)
                _freeze(f'save:{arg} ({size // 2} of {size} bytes)')
            return original_replace(src, dst, *args, **kwargs)

        os.replace = replace
    elif kind == 'last_checkpoint':
        # mmengine's CheckpointHook rewrites last_checkpoint with the
        # ``open`` of its module, right after the checkpoint is complete.
        import builtins

        from mmengine.hooks import checkpoint_hook

        def open_(file, mode='r', *args, **kwargs):
            if (osp.basename(str(file)) == 'last_checkpoint' and 'w' in mode
                    and osp.isfile(osp.join(osp.dirname(str(file)), arg))):
                _freeze(f'last_checkpoint:{arg}')
            return builtins.open(file, mode, *args, **kwargs)

        checkpoint_hook.open = open_
    elif kind == 'phase_switch':
        from mmseg_seggan.engine.hooks.seggan_phase_hook import \
            SegGANPhaseHook
        original_hook = SegGANPhaseHook.before_train_iter

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            original_hook(self, runner, batch_idx, data_batch)
            if runner.iter == self.gan_iters:
                _freeze(f'phase_switch at iteration {runner.iter + 1}')

        SegGANPhaseHook.before_train_iter = before_train_iter
    else:
        raise ValueError(f'unknown SEGGAN_KILLPOINT {spec!r}')


def main() -> None:
    import warnings
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    import mmseg_seggan  # noqa: F401
    spec = os.environ.get('SEGGAN_KILLPOINT')
    if spec:
        _install(spec)
    train = osp.join(REPO, 'tools', 'train.py')
    sys.argv = [train] + sys.argv[1:]
    sys.path.insert(0, osp.dirname(train))
    runpy.run_path(train, run_name='__main__')


if __name__ == '__main__':
    main()
