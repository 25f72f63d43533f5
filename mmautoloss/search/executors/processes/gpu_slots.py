"""Execution slots of a local executor: which devices and which master port a trial gets.

A node with ``gpus`` GPUs is cut into ``gpus // gpus_per_trial`` disjoint slots (8 GPUs at
2 per trial gives the slots (0, 1), (2, 3), (4, 5), (6, 7)). A fraction of a GPU per trial
(``gpus_per_trial=0.25``: Auto Seg-Loss trained 4 proxy models per GPU at once) gives each
GPU ``1 / gpus_per_trial`` slots that share it, handed out round-robin over the GPUs (2 GPUs
at 0.5 give the slots (0,), (1,), (0,), (1,)). Without GPUs (``gpus=0``) the
node has ``max_concurrent`` CPU slots with no device. Every acquired slot carries a free TCP
port that no other live slot holds, used as the trial's ``MASTER_PORT`` (torchrun
``--master_port``), so concurrent distributed trials never share a rendezvous.
"""
from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One place a trial runs: a slot index, its devices (empty on CPU) and its port."""

    index: int
    devices: tuple[int, ...]
    port: int

    def env(self) -> dict[str, str]:
        """Environment variables that pin a trial process to this slot."""
        return {
            'CUDA_VISIBLE_DEVICES': ','.join(str(d) for d in self.devices),
            'MASTER_PORT': str(self.port),
        }


def find_free_port(exclude: frozenset[int] | set[int] = frozenset(),
                   max_tries: int = 100) -> int:
    """Ask the OS for a free TCP port on localhost that is not in ``exclude``."""
    for _ in range(max_tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        if port not in exclude:
            return port
    raise RuntimeError(f'no free port outside exclude={sorted(exclude)} after {max_tries} tries')


def check_gpus_per_trial(value: object) -> int | float:
    """GPUs per trial as an ``int`` >= 1, or a fraction ``1 / k`` (0.5, 0.25, 0.2, ...) of
    one GPU shared by ``k`` trials; ``ValueError`` naming the value otherwise (0.3 would
    leave a tenth of every GPU unused, 1.5 would split a trial over a GPU another uses)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or value != value or value == float('inf'):
        raise ValueError(f'gpus_per_trial must be a positive number, got '
                         f'gpus_per_trial={value!r}')
    if value >= 1:
        if value != int(value):
            raise ValueError(f'gpus_per_trial above 1 must be a whole number of GPUs, got '
                             f'gpus_per_trial={value!r}')
        return int(value)
    share = round(1 / value)
    if abs(share * value - 1) > 1e-9:
        raise ValueError(f'gpus_per_trial below 1 must be 1/k so that k trials share each GPU '
                         f'exactly (0.5, 0.25, 0.2, ...), got gpus_per_trial={value!r}')
    return 1 / share


def trials_per_gpu(gpus_per_trial: int | float) -> int:
    """How many trials share one GPU: ``k`` for ``1 / k``, else 1."""
    return round(1 / gpus_per_trial) if gpus_per_trial < 1 else 1


def parse_visible_devices(value: str | None, gpus: int) -> list[int]:
    """Device ids the slots may use: the first ``gpus`` entries of a parent
    ``CUDA_VISIBLE_DEVICES`` if one is set, else ``0 .. gpus-1``."""
    if value is None or value.strip() == '':
        return list(range(gpus))
    try:
        visible = [int(v) for v in value.split(',') if v.strip() != '']
    except ValueError as err:
        raise ValueError(f'CUDA_VISIBLE_DEVICES={value!r} is not a comma-separated list of '
                         'integer device ids') from err
    if len(visible) < gpus:
        raise ValueError(f'gpus={gpus} but CUDA_VISIBLE_DEVICES={value!r} exposes only '
                         f'{len(visible)} device(s)')
    return visible[:gpus]


class SlotPool:
    """Hands out disjoint :class:`Slot` s and takes them back.

    Args:
        gpus (int): GPUs on this node for the search; 0 runs CPU processes.
        gpus_per_trial (int | float): GPUs per trial, or a fraction ``1 / k`` of one
            (see :func:`check_gpus_per_trial`); must be 1 when ``gpus`` is 0.
        max_concurrent (int | None):
            number of CPU slots when ``gpus`` is 0 (``None`` means 1). With GPUs
            the slot count is ``gpus // gpus_per_trial`` and ``max_concurrent`` is not used,
            so one search config serves CPU machines and ``--gpus N`` nodes alike.
        visible_devices (Sequence[int] | None):
            the device ids to share out (default ``0 .. gpus-1``); pass the parent
            ``CUDA_VISIBLE_DEVICES`` through :func:`parse_visible_devices` to honour it.
    """

    def __init__(self, gpus: int = 0, gpus_per_trial: int | float = 1,
                 max_concurrent: int | None = 1,
                 visible_devices: Sequence[int] | None = None) -> None:
        if not isinstance(gpus, int) or gpus < 0:
            raise ValueError(f'gpus must be an integer >= 0, got gpus={gpus!r}')
        gpus_per_trial = check_gpus_per_trial(gpus_per_trial)
        if max_concurrent is not None and (not isinstance(max_concurrent, int)
                                           or max_concurrent < 1):
            raise ValueError(f'max_concurrent must be an integer >= 1 or None, got '
                             f'max_concurrent={max_concurrent!r}')
        if gpus == 0 and gpus_per_trial != 1:
            raise ValueError(f'gpus_per_trial={gpus_per_trial} needs GPUs, but gpus=0 '
                             '(CPU trials run one process each)')
        if gpus > 0 and gpus < gpus_per_trial:
            raise ValueError(f'gpus={gpus} is fewer than gpus_per_trial={gpus_per_trial}')
        devices = list(range(gpus)) if visible_devices is None else list(visible_devices)
        if len(devices) != gpus:
            raise ValueError(f'visible_devices={devices} must list exactly gpus={gpus} ids')
        if gpus == 0:
            self._slot_devices = [() for _ in range(max_concurrent or 1)]
        elif gpus_per_trial < 1:
            self._slot_devices = [(devices[i % gpus], )
                                  for i in range(gpus * trials_per_gpu(gpus_per_trial))]
        else:
            self._slot_devices = [
                tuple(devices[i * gpus_per_trial:(i + 1) * gpus_per_trial])
                for i in range(gpus // gpus_per_trial)
            ]
        self._free = list(range(len(self._slot_devices)))
        self._busy: dict[int, Slot] = {}

    @property
    def num_slots(self) -> int:
        """Total number of slots, i.e. the most trials that can run at once."""
        return len(self._slot_devices)

    @property
    def num_free(self) -> int:
        """Slots not held by a running trial."""
        return len(self._free)

    def devices_of(self, index: int) -> tuple[int, ...]:
        """The devices of slot ``index`` (the same every time it is acquired)."""
        return self._slot_devices[index]

    def acquire(self) -> Slot | None:
        """Take the lowest free slot with a fresh free port, or ``None`` if all are busy."""
        if not self._free:
            return None
        index = self._free.pop(0)
        port = find_free_port(exclude={s.port for s in self._busy.values()})
        slot = Slot(index=index, devices=self._slot_devices[index], port=port)
        self._busy[index] = slot
        return slot

    def release(self, slot: Slot) -> None:
        """Give a slot back; releasing a slot that is not held is an error."""
        if self._busy.get(slot.index) != slot:
            raise ValueError(f'slot={slot} is not held by this pool')
        del self._busy[slot.index]
        self._free.append(slot.index)
        self._free.sort()
