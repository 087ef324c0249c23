"""The distributed pieces that need no second process: evaluation shards, per-rank seeds, the number
of processes a checkpoint was written by, SyncBatchNorm on the CPU, the launcher environment."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepzen.train import Trainer
from deepzen.train.batches import BatchSource
from deepzen.train.distributed import DistEnv, DistributedTrainer, from_environ
from deepzen.train.distributed.sampler import evaluation_shard
from deepzen.train.seeding import epoch_seed, process_seed


@pytest.mark.parametrize("size, world", [(51, 2), (7, 3), (1, 2), (0, 2), (16, 4)])
def test_evaluation_shards_cover_the_split_once(size: int, world: int) -> None:
    x, y = torch.arange(size).float()[:, None], torch.arange(size)  # (S, 1), (S,): y names the sample
    seen = [int(i) for r in range(world) for _, b in evaluation_shard(BatchSource((x, y)), r, world).batches(None, 4)
            for i in b]
    assert seen == list(range(size))  # no sample twice, none dropped, in order


def test_evaluation_shards_of_a_dataset_cover_it_once() -> None:
    data = torch.utils.data.TensorDataset(torch.zeros(7, 1), torch.arange(7))
    source = BatchSource(list(zip(data.tensors[0], data.tensors[1])))  # a plain list of (x, y) items
    seen = [int(i) for r in range(3) for _, b in evaluation_shard(source, r, 3).batches(None, 2) for i in b]
    assert seen == list(range(7))


def test_each_rank_draws_its_own_stream_apart_from_the_data_order() -> None:
    for seed in (0, 1, 12345):
        seeds = [process_seed(seed, r) for r in range(4)]
        assert seeds[0] == seed and len(set(seeds)) == 4
        assert not set(seeds[1:]) & {epoch_seed(seed, e) for e in range(100)}


def small_trainer(**options) -> Trainer:
    net = nn.Linear(2, 2)
    return Trainer(net, torch.optim.SGD(net.parameters(), lr=0.1), "cross_entropy", progress="none", **options)


def test_a_checkpoint_of_two_processes_is_refused_by_one() -> None:
    state = small_trainer().state_dict()
    assert state["processes"] == 1
    small_trainer().load_state_dict(state)  # the same number: fine
    with pytest.raises(ValueError, match=r"saved by 2 processes and this resume asks for 1: resume with --nproc 2"):
        small_trainer().load_state_dict({**state, "processes": 2})


def test_sync_batch_norm_on_the_cpu_is_refused_before_any_process_group() -> None:
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    with pytest.raises(ValueError, match=r"sync_batch_norm = true on device 'cpu': torch's SyncBatchNorm runs on GPUs"):
        DistributedTrainer(net, torch.optim.SGD(net.parameters(), lr=0.1), "mse", env=DistEnv(0, 2, 0, 2),
                           sync_batch_norm=True, device="cpu")


def test_the_launcher_environment_gives_the_local_world_size() -> None:
    env = from_environ({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4"})
    assert env == DistEnv(3, 8, 1, 4)
    assert from_environ({"RANK": "1", "WORLD_SIZE": "2"}) == DistEnv(1, 2, 1, 2)  # all local, without torchrun's
    with pytest.raises(ValueError, match="LOCAL_WORLD_SIZE must be integers"):
        from_environ({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "two"})
