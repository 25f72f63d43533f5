"""Executors: where trials run (local subprocesses on GPU / CPU slots; Ray tasks on a
cluster)."""
from .base import BaseExecutor
from .gpu_slots import Slot, SlotPool, find_free_port
from .local import LocalExecutor
from .ray_executor import RayExecutor

__all__ = ['BaseExecutor', 'LocalExecutor', 'RayExecutor', 'Slot', 'SlotPool', 'find_free_port']
