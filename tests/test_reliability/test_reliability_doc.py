"""docs/reliability.md says what the code does.

* Every test the matrix names exists (a renamed or deleted test would
  otherwise leave a row that claims a check nobody runs).
* The quoted messages match the real ones (C7 had drifted:
  "No weights were updated" vs the code's "No parameter was updated").
"""
import os.path as osp
import re

import torch
from mmengine.logging import MessageHub
from seggan_testing import REPO, tiny_seggan

from mmseg_seggan.models import NonFiniteLossError

DOC = osp.join(REPO, 'docs', 'reliability.md')


def _rows():
    """``{row id: markdown row}`` of the matrix tables."""
    rows = {}
    with open(DOC) as f:
        for line in f:
            m = re.match(r'\|\s*([A-Z]\d+[a-z]?)\s*\|', line)
            if m:
                rows[m.group(1)] = line
    return rows


def _named_tests(row):
    """(file, test name or None) for each test id in a row's last cell."""
    cell = row.rstrip().rstrip('|').rsplit('|', 1)[1]
    found, current = [], None
    for token in re.findall(r'`([^`]+)`', cell):
        m = re.fullmatch(r'([\w/.-]+\.py)(?:::(\w+))?', token)
        if m:
            current = m.group(1)
            found.append((current, m.group(2)))
        elif re.fullmatch(r'::\w+', token) and current:
            found.append((current, token[2:]))
    return found


def test_every_named_test_exists():
    missing = []
    rows = _rows()
    assert len(rows) > 40
    for row_id, row in rows.items():
        for path, name in _named_tests(row):
            full = osp.join(REPO, 'tests', path)
            if not osp.isfile(full):
                full = osp.join(REPO, path)  # a tool, e.g. soak_seggan.py
            if not osp.isfile(full):
                missing.append(f'{row_id}: {path}')
                continue
            if name and not re.search(rf'^def {name}\(',
                                      open(full).read(), re.M):
                missing.append(f'{row_id}: {path}::{name}')
    assert missing == []


def test_c7_quotes_the_real_message():
    quote = re.search(r'`(NonFiniteLossError: [^`]*?) \.\.\.`',
                      _rows()['C7']).group(1)
    model = tiny_seggan()
    model.set_phase(1)
    MessageHub.get_current_instance().update_info('iter', 2)
    try:
        model._finite_or_skip(dict(loss_d=torch.tensor(float('nan'))))
    except NonFiniteLossError as e:
        real = f'{type(e).__name__}: {e}'.replace('`', '')
    assert real.startswith(quote), (quote, real)
