"""The checkpoint a divergence error names is one whose validation passed: with checkpoints at every step
and validations every 5, the error names best/ (validated), not the unvalidated checkpoint after it."""

import re

import pytest
import torch

from rnnkit.train.checkpoint import load_checkpoint
from rnnkit.train.config import TrainConfig
from rnnkit.train.trainer import Diverged, Trainer


class Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets=None, state=None):
        out = self.w(inputs)
        return out, ((out - targets) ** 2).mean(), None


class Data:
    stateful = False

    def batch(self, step):
        g = torch.Generator().manual_seed(step)
        x = torch.randn(4, 2, generator=g)
        return x, x.sum(1, keepdim=True), True


@pytest.mark.parametrize("fails_at", [1, 2])
def test_divergence_names_the_last_validated_checkpoint(tmp_path, fails_at):
    losses = iter([0.5] * (fails_at - 1) + [1e9])  # the validation of the fails_at-th evaluation blows up
    config = TrainConfig(steps=20, batch_size=4, lr=1e-3, eval_every=5, checkpoint_every=1, log_every=5,
                         sample_every=0, device="cpu", warmup=0)
    trainer = Trainer(Toy(), config, Data(), lambda m: {"val_loss": next(losses)}, tmp_path, {"task": "toy"})
    trainer.verbose = False
    with pytest.raises(Diverged) as e:
        trainer.fit()
    message = str(e.value)
    assert f"the validation loss became 1e+09 at step {5 * fails_at}" in message
    if fails_at == 1:
        assert f"no validated checkpoint had been written yet ({tmp_path / 'checkpoint'}, step 4, was saved before" in message
        return
    assert re.search(rf"the last checkpoint whose validation was good is {tmp_path / 'best'} \(step 5, validation "
                     rf"loss 0.5\); {tmp_path / 'checkpoint'} \(step 9\) was saved after the last validation", message)
    assert load_checkpoint(tmp_path / "best")[1]["step"] == 5
    assert load_checkpoint(tmp_path / "checkpoint")[1]["step"] == 9
