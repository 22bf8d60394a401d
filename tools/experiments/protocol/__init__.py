"""Experiment protocols of the package's results pages (a tools package).

Not part of the installed ``mmseg_seggan`` package (no training needs it):
it lives beside the scripts of ``tools/experiments/`` that import it (each
puts its own folder on ``sys.path``), and ships with them in the package's
``.mim`` folder, as mmseg ships its ``tools/``. :mod:`.engine` runs a graph
of stages (the product's own ``tools/train.py`` / ``tools/test.py``)
resumably and refuses to reuse a stage whose inputs changed;
:mod:`.seggan_protocol` and :mod:`.semi_protocol` are two protocols (the
GPU one and ``compare.py`` are scripts on the same engine); :mod:`.summary`
makes their tables; :mod:`.records` reads mmengine's JSON logs and the
machine; :mod:`.carried_record` exports a record off its machine and pools
exported records whose stages started from bit-identical weights.
"""
import os.path as _osp
import sys as _sys

# tools/, for ``seggan_launch`` (what tools/train.py reads configs with)
_TOOLS = _osp.dirname(_osp.dirname(_osp.dirname(_osp.abspath(__file__))))
if _TOOLS not in _sys.path:
    _sys.path.append(_TOOLS)
