"""The old name of ``seggan2segmentor.py`` (same arguments, same result)."""
import os.path as osp
import runpy

_TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'seggan2segmentor.py')
globals().update(
    {k: v
     for k, v in runpy.run_path(_TOOL).items() if not k.startswith('__')})

if __name__ == '__main__':
    main()  # noqa: F821
