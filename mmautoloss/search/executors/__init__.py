"""Executors: where trials run (local subprocesses on GPU / CPU slots)."""
from .base import BaseExecutor
from .gpu_slots import Slot, SlotPool, find_free_port
from .local import LocalExecutor

__all__ = ['BaseExecutor', 'LocalExecutor', 'Slot', 'SlotPool', 'find_free_port']
