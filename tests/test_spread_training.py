"""``adapter_steps_per_frame``: a training event's steps spread over frames. The trainer's event in parts
(begin_training / advance_training) against the whole event (train) on the same memory, samples held back
while it runs, roll-back and divergence in the middle of it, and the method's frames (at most k steps a
frame, ``trained`` and the new ``Zf'`` on the frame the event ends), on generated features."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label
from pytracking_siamot.online.method import Frame
from pytracking_siamot.parameters import SiamOTParams
from test_drift_guard import _method
from test_training_event import _net, _trainer_inputs


def _sample(xf: torch.Tensor, k: int, size: int = 13) -> AdapterSample:
    return AdapterSample(xf, gaussian_label(size, (5.0 + 0.5 * k, 6.0 - 0.3 * k), 0.5))


def _trainers(count: int, closed_form: bool = True, **settings) -> tuple[list[AdapterTrainer], list[torch.Tensor]]:
    """``count`` trainers reset on the same first frame with the same two recent samples, and the
    features of three more samples."""
    net = _net()
    mask = torch.zeros(10, 10)
    mask[2:8, 3:8] = 1.0
    params = SiamOTParams(**{"adapter_iterations": 5, "adapter_memory_size": 3, **settings})
    zf, xfs = _trainer_inputs(11, 6)
    trainers = [AdapterTrainer(net.score, params, net.exemplar_region_scores if closed_form else None)
                for _ in range(count)]
    for trainer in trainers:
        trainer.reset(zf, _sample(xfs[0], 0), mask)
        for k in (1, 2):
            trainer.add(_sample(xfs[k], k))
    return trainers, xfs[3:]


def _counting_steps(trainer: AdapterTrainer) -> list[int]:
    """Counts ``trainer``'s normalised steps; the list's last entry is the current count."""
    count = [0]
    step = trainer._normalized_step

    def counted(*args, **kwargs):
        count[0] += 1
        return step(*args, **kwargs)

    trainer._normalized_step = counted
    return count


def _spread(trainer: AdapterTrainer, temperature: float, k: int, floor: float = 0.0,
            between=None) -> tuple[tuple[float, ...], list[int]]:
    """The event in calls of at most ``k`` steps; its losses and the steps each call took.
    ``between(call)`` runs after each call that leaves the event under way."""
    count = _counting_steps(trainer)
    trainer.begin_training(temperature, floor)
    per_call = []
    while True:
        before = count[0]
        losses = trainer.advance_training(k)
        per_call.append(count[0] - before)
        if losses is not None:
            return losses, per_call
        assert trainer.training
        if between is not None:
            between(len(per_call))


@pytest.mark.parametrize("closed_form", [True, False])
@pytest.mark.parametrize("k", [1, 2, 5, 7])
def test_a_spread_event_ends_with_the_adapter_of_the_whole_event(closed_form, k) -> None:
    (whole, spread), _ = _trainers(2, closed_form)
    expected = whole.train(0.8)
    losses, per_call = _spread(spread, 0.8, k)
    assert len(per_call) == math.ceil(5 / k) and max(per_call) <= k and sum(per_call) == 5
    assert losses == expected and not spread.training
    torch.testing.assert_close(spread.exemplar_features(), whole.exemplar_features(), rtol=0, atol=0)
    assert spread.version == whole.version
    assert [m is None for m in spread._adapted_maps] == [m is None for m in whole._adapted_maps]
    if closed_form:  # the maps kept for the next event's floor: under the new adapter
        for got, want in zip(spread._adapted_maps, whole._adapted_maps):
            assert got[0] == spread.version and torch.equal(got[1], want[1])


def test_the_floor_ends_a_spread_event_in_its_first_call() -> None:
    (whole, spread), _ = _trainers(2)
    version = whole.version
    expected = whole.train(0.8, floor=1e9)
    losses, per_call = _spread(spread, 0.8, 1, floor=1e9)
    assert losses == expected and len(losses) == 1 and per_call == [0]
    assert spread.version == whole.version == version and not spread.training


def test_samples_added_during_the_event_wait_and_are_learnt_by_the_next_one() -> None:
    (whole, spread), later = _trainers(2)
    before = spread.exemplar_features().clone()
    whole.train(0.8)
    memory = [s.features for s in spread.samples]

    def add(call: int) -> None:
        spread.add(_sample(later[call - 1], call + 2))
        assert [s.features for s in spread.samples] == memory  # the event's memory stays as it began
        assert torch.equal(spread.exemplar_features(), before)  # the tracker's Zf' until the event ends

    _, per_call = _spread(spread, 0.8, 2, between=add)
    assert per_call == [2, 2, 1]
    torch.testing.assert_close(spread.exemplar_features(), whole.exemplar_features(), rtol=0, atol=0)
    # both held-back samples joined the memory (FIFO: the oldest recent sample left)
    assert [s.features for s in spread.samples] == [memory[0], memory[2], *later[:2]]
    for sample in (_sample(later[0], 3), _sample(later[1], 4)):
        whole.add(sample)
    torch.testing.assert_close(torch.tensor(spread.train(0.8)), torch.tensor(whole.train(0.8)))
    torch.testing.assert_close(spread.exemplar_features(), whole.exemplar_features())


def test_a_held_back_sample_keeps_its_adapted_map_only_when_the_event_left_the_adapter_as_it_was() -> None:
    (stepped, floored), later = _trainers(2)
    for trainer, floor in ((stepped, 0.0), (floored, 1e9)):
        trainer.begin_training(0.8, floor)
        if floor == 0.0:
            assert trainer.advance_training(1) is None
        trainer.add(_sample(later[0], 3), None, torch.zeros(13, 13))
        while trainer.advance_training(1) is None:
            pass
    assert stepped._adapted_maps[-1] is None  # made under the adapter before the event
    assert floored._adapted_maps[-1][0] == floored.version


def test_a_roll_back_or_reset_abandons_the_event_with_the_samples_it_held_back() -> None:
    (trainer,), later = _trainers(1)
    before = trainer.adapter.delta.detach().clone()
    memory = [s.features for s in trainer.samples]
    trainer.begin_training(0.8)
    trainer.advance_training(1)
    assert not torch.equal(trainer.adapter.delta, before)  # a step taken, not yet handed out
    trainer.add(_sample(later[0], 3))
    checkpoint = trainer.checkpoint()  # the adapter the tracker holds, the memory with the waiting sample
    assert torch.equal(checkpoint.delta, before)
    assert [s.features for s in checkpoint.recent] == [*memory[1:], later[0]] and len(checkpoint.base_maps) == 4
    trainer.add(_sample(later[1], 4))
    assert [s.features for s in trainer.checkpoint().recent] == [memory[2], *later[:2]]  # FIFO as in add
    trainer.roll_back(checkpoint)
    assert not trainer.training and torch.equal(trainer.adapter.delta, before)
    assert [s.features for s in trainer.samples] == [*memory, later[0]]
    trainer.begin_training(0.8)
    trainer.advance_training(1)
    trainer.add(_sample(later[2], 5))
    trainer.roll_back(None)
    assert not trainer.training and len(trainer.samples) == 1 and not trainer.adapter.delta.any()
    trainer.train(0.8)  # trains again after either
    trainer.begin_training(0.8)
    trainer.reset(trainer.base_features, _sample(later[1], 0), trainer.adapter.mask)
    assert not trainer.training and len(trainer.samples) == 1
    with pytest.raises(RuntimeError, match="no training event"):
        trainer.advance_training(1)
    trainer.begin_training(0.8)
    with pytest.raises(RuntimeError, match="already under way"):
        trainer.begin_training(0.8)


def test_a_non_finite_step_in_a_later_frame_rolls_back_to_the_adapter_before_the_event() -> None:
    (whole, spread), _ = _trainers(2)
    before = spread.adapter.delta.detach().clone()
    version = spread.version
    for trainer in (whole, spread):
        step, calls = trainer._normalized_step, [0]

        def failing(*args, _step=step, _calls=calls, **kwargs):
            _calls[0] += 1
            return False if _calls[0] == 3 else _step(*args, **kwargs)

        trainer._normalized_step = failing
    expected = whole.train(0.8)
    trainer = spread
    trainer.begin_training(0.8)
    results = [trainer.advance_training(1) for _ in range(3)]
    assert results[:2] == [None, None] and results[2] == expected and len(expected) == 3
    assert torch.equal(spread.adapter.delta, before) and torch.equal(whole.adapter.delta, before)
    assert spread.version == version and not spread.training


def _centre_frame(method, zf, xf) -> Frame:
    base = method.network.score(zf, xf)[0, 0]
    return Frame(base[None, None], xf, 0, np.zeros(2), zf, False, crop_at_target=lambda: None)


@pytest.mark.parametrize("k", [1, 2])
def test_the_method_takes_at_most_k_steps_a_frame_and_reports_the_event_where_it_ends(k) -> None:
    # Every frame confident; an event after every 2 confident frames, 3 steps each.
    settings = dict(confidence_threshold=0.0, lost_threshold=0.0, zero_loss_threshold=0.0,
                    adapter_train_every=2, adapter_iterations=3)
    whole, zf, xf = _method(**settings)
    spread, _, _ = _method(adapter_steps_per_frame=k, **settings)
    frame = _centre_frame(spread, zf, xf)
    reference = [whole.update(frame) for _ in range(2)]
    assert reference[1].trained and reference[1].exemplar_features is not None
    count = _counting_steps(spread.trainer)
    steps, updates, memory = [], [], []
    for _ in range(8):
        before = count[0]
        updates.append(spread.update(frame))
        steps.append(count[0] - before)
        memory.append(len(spread.trainer.samples))
    assert max(steps) <= k
    frames = math.ceil(3 / k)
    # the second frame begins the event, the event ends ceil(3 / k) frames later than it began (that
    # frame begins no other event, though it makes the count of confident frames), the next one begins one
    ended = frames
    assert steps[:ended + 1] == [0] + [k] * (frames - 1) + [3 - k * (frames - 1)]
    assert steps[ended + 1] > 0
    assert [u.trained for u in updates[:ended + 1]] == [False] * ended + [True]
    assert all(u.exemplar_features is None for u in updates[:ended])
    # the event's Zf' is the whole event's on the same memory (frames 1-2)
    torch.testing.assert_close(updates[ended].exemplar_features, reference[1].exemplar_features, rtol=0, atol=0)
    # the samples of the frames during the event waited, and joined the memory when it ended
    assert memory[:ended + 1] == [2] + [3] * (ended - 1) + [2 + ended]
