"""Generic helpers with no OpenMMLab dependency: atomically replaced JSON files."""
from .atomic_json import read_json, write_json_atomic

__all__ = ['read_json', 'write_json_atomic']
