"""Executors: where trials run (local subprocesses on GPU / CPU slots; Ray tasks on a
cluster)."""
from .base import BaseExecutor
from .local import LocalExecutor
from .processes.gpu_slots import Slot, SlotPool, find_free_port
from .ray_executor import RayExecutor

__all__ = ['BaseExecutor', 'LocalExecutor', 'RayExecutor', 'Slot', 'SlotPool', 'find_free_port']
