"""SHA-256 of a checkpoint's state dict, key by key in sorted order.

A refactor must not change a training result: the same run on the same
machine, thread count and versions gives the same digest before and after.
The digest covers every tensor's name, dtype, shape and bytes (weights
only: the optimizer and the message hub hold wall times and paths).

    python tools/analysis_tools/state_dict_digest.py CKPT [CKPT ...]
"""
import argparse
import hashlib

import torch


def state_dict_digest(path: str) -> str:
    """The hex SHA-256 of ``path``'s state dict (weights-only load)."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f'{key}|{t.dtype}|{tuple(t.shape)}|'.encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes()
                 if t.numel() else b'')
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoints', nargs='+')
    for path in parser.parse_args().checkpoints:
        print(f'{state_dict_digest(path)}  {path}')


if __name__ == '__main__':
    main()
