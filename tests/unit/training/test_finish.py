"""The best checkpoint a run tests: its own is used in place, one of the run it resumed is copied into this run
first, so tuning it never rewrites another run's files."""

from __future__ import annotations

from types import SimpleNamespace

from review_cls.training.finish import own_best_checkpoint


def trainer_with_best(best: str, global_zero: bool = True) -> SimpleNamespace:
    return SimpleNamespace(checkpoint_callback=SimpleNamespace(best_model_path=best), is_global_zero=global_zero)


def test_a_best_checkpoint_inside_the_run_is_used_as_it_is(tmp_path):
    best = tmp_path / "run" / "checkpoints" / "best-epoch01.ckpt"
    best.parent.mkdir(parents=True)
    best.write_bytes(b"weights")
    trainer = trainer_with_best(str(best))
    assert own_best_checkpoint(trainer, str(tmp_path / "run")) == str(best)
    assert sorted(path.name for path in best.parent.iterdir()) == ["best-epoch01.ckpt"]


def test_the_resumed_runs_best_checkpoint_is_copied_into_this_run(tmp_path):
    earlier = tmp_path / "earlier" / "checkpoints" / "best-epoch03.ckpt"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"weights of the earlier run")
    trainer = trainer_with_best(str(earlier))
    copy = own_best_checkpoint(trainer, str(tmp_path / "resumed"))
    assert copy == str((tmp_path / "resumed" / "checkpoints" / "best-epoch03.ckpt").resolve())
    assert (tmp_path / "resumed" / "checkpoints" / "best-epoch03.ckpt").read_bytes() == b"weights of the earlier run"
    assert trainer.checkpoint_callback.best_model_path == copy
    assert earlier.read_bytes() == b"weights of the earlier run"


def test_no_best_checkpoint_or_another_rank_copies_nothing(tmp_path):
    assert own_best_checkpoint(trainer_with_best(""), str(tmp_path / "run")) == ""
    earlier = tmp_path / "earlier.ckpt"
    earlier.write_bytes(b"w")
    other_rank = trainer_with_best(str(earlier), global_zero=False)
    assert own_best_checkpoint(other_rank, str(tmp_path / "run")) == str(earlier)
    assert not (tmp_path / "run").exists()
