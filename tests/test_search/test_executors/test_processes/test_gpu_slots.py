import socket

import pytest

from mmautoloss.search.executors.processes.gpu_slots import (
    Slot,
    SlotPool,
    check_gpus_per_trial,
    find_free_port,
    parse_visible_devices,
    trials_per_gpu,
)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def test_eight_gpus_two_per_trial_gives_four_disjoint_slots():
    pool = SlotPool(gpus=8, gpus_per_trial=2, max_concurrent=None)
    assert pool.num_slots == 4
    slots = [pool.acquire() for _ in range(4)]
    assert pool.acquire() is None
    assert [s.devices for s in slots] == [(0, 1), (2, 3), (4, 5), (6, 7)]
    assert [s.env()['CUDA_VISIBLE_DEVICES'] for s in slots] == ['0,1', '2,3', '4,5', '6,7']
    ports = [s.port for s in slots]
    assert len(set(ports)) == 4
    assert all(_bindable(p) for p in ports)
    assert [s.env()['MASTER_PORT'] for s in slots] == [str(p) for p in ports]
    pool.release(slots[2])
    assert pool.num_free == 1
    again = pool.acquire()
    assert again.index == 2 and again.devices == (4, 5)
    assert again.port not in {s.port for i, s in enumerate(slots) if i != 2}


def test_cpu_slots_have_no_devices():
    pool = SlotPool(gpus=0, gpus_per_trial=1, max_concurrent=3)
    slots = [pool.acquire() for _ in range(3)]
    assert pool.acquire() is None
    assert all(s.devices == () and s.env()['CUDA_VISIBLE_DEVICES'] == '' for s in slots)
    assert SlotPool(gpus=0, max_concurrent=None).num_slots == 1


def test_gpu_slot_count_ignores_cpu_concurrency_and_floors_uneven_gpus():
    assert SlotPool(gpus=8, gpus_per_trial=1, max_concurrent=1).num_slots == 8
    pool = SlotPool(gpus=7, gpus_per_trial=2, max_concurrent=None)
    assert [pool.acquire().devices for _ in range(pool.num_slots)] == [(0, 1), (2, 3), (4, 5)]


def test_visible_devices_are_shared_out():
    visible = parse_visible_devices('4,5,6,7,2', gpus=4)
    assert visible == [4, 5, 6, 7]
    pool = SlotPool(gpus=4, gpus_per_trial=2, max_concurrent=None, visible_devices=visible)
    assert [pool.acquire().devices for _ in range(2)] == [(4, 5), (6, 7)]
    assert parse_visible_devices(None, 3) == [0, 1, 2]
    assert parse_visible_devices('', 2) == [0, 1]


@pytest.mark.parametrize('kwargs, key', [
    (dict(gpus=-1), 'gpus=-1'),
    (dict(gpus=2, gpus_per_trial=0), 'gpus_per_trial=0'),
    (dict(gpus=0, gpus_per_trial=2), 'gpus_per_trial=2'),
    (dict(gpus=1, gpus_per_trial=2), 'gpus=1'),
    (dict(gpus=0, max_concurrent=0), 'max_concurrent=0'),
    (dict(gpus=2, visible_devices=[0]), 'visible_devices=[0]'),
])
def test_bad_pool_arguments_name_the_value(kwargs, key):
    with pytest.raises(ValueError, match=key.replace('[', r'\[').replace(']', r'\]')):
        SlotPool(**kwargs)


def test_bad_visible_devices_and_foreign_release():
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES='a,b'"):
        parse_visible_devices('a,b', 1)
    with pytest.raises(ValueError, match='gpus=3'):
        parse_visible_devices('0,1', 3)
    pool = SlotPool(gpus=2, max_concurrent=None)
    with pytest.raises(ValueError, match='not held'):
        pool.release(Slot(index=0, devices=(0,), port=1234))


def test_find_free_port_skips_excluded_ports():
    first = find_free_port()
    assert _bindable(first)
    excluded = {first} | {find_free_port() for _ in range(5)}
    assert find_free_port(exclude=excluded) not in excluded


def test_fractional_gpus_give_each_device_k_slots_round_robin():
    pool = SlotPool(gpus=2, gpus_per_trial=0.25, visible_devices=[3, 5])
    assert pool.num_slots == 8
    slots = [pool.acquire() for _ in range(8)]
    assert [s.devices for s in slots[:4]] == [(3, ), (5, ), (3, ), (5, )]
    assert sorted(d for s in slots for d in s.devices) == [3] * 4 + [5] * 4
    assert pool.acquire() is None
    assert len({s.port for s in slots}) == 8


@pytest.mark.parametrize('value,match', [
    (0.3, 'must be 1/k'), (0.4, 'must be 1/k'), (1.5, 'whole number of GPUs'),
    (0, 'positive number'), (-0.5, 'positive number'), (float('nan'), 'positive number'),
    (True, 'positive number'), ('0.5', 'positive number')])
def test_uneven_gpu_fractions_are_refused_by_value(value, match):
    with pytest.raises(ValueError, match=match):
        check_gpus_per_trial(value)


def test_accepted_gpu_fractions():
    assert check_gpus_per_trial(0.5) == 0.5 and check_gpus_per_trial(1 / 3) == 1 / 3
    assert check_gpus_per_trial(2.0) == 2 and isinstance(check_gpus_per_trial(2.0), int)
    assert trials_per_gpu(0.25) == 4 and trials_per_gpu(2) == 1
    with pytest.raises(ValueError, match='gpus_per_trial=0.5 needs GPUs'):
        SlotPool(gpus=0, gpus_per_trial=0.5)
