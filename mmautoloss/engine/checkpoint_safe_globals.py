"""Let ``Runner(resume=True)`` load mmengine checkpoints on torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine 0.10.7 calls it
without the argument, and its checkpoints hold a MessageHub whose HistoryBuffers pickle numpy
arrays and, through ``builtins.getattr``, their statistics methods. Rather than switching the
safe loader off, this module allowlists exactly those globals. ``getattr`` is not allowlisted
as such: the name is bound to :func:`history_buffer_getattr`, which only resolves
``HistoryBuffer.<statistic>`` and rejects every other attribute access.
"""
import pickle
from typing import Any

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_getattr(owner: Any, name: str) -> Any:
    """``getattr`` restricted to the statistics methods HistoryBuffer pickles by reference."""
    if owner is HistoryBuffer and name in _STATISTICS:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics '
        f'{_STATISTICS} are allowed when loading with weights_only=True')


def _numpy_globals() -> list[Any]:
    multiarray = np.core.multiarray if hasattr(np, 'core') else np._core.multiarray
    found: list[Any] = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles dtype classes by name
    if dtypes is not None:
        found += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return found


def register_checkpoint_safe_globals() -> None:
    """Allowlist what mmengine writes into its checkpoints (no-op on torch < 2.4)."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return
    add_safe_globals([HistoryBuffer, *_numpy_globals(),
                      (history_buffer_getattr, 'builtins.getattr')])


register_checkpoint_safe_globals()
