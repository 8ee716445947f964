"""``--help`` of a command read from conf/: the usage, config groups with their options, and settings with comments."""

from __future__ import annotations

import pytest

from review_cls.command_help import answer_help, help_text, options, settings
from tests.helpers import CONF_DIR


def test_train_help_lists_its_groups_with_their_options_and_the_appended_experiment_group():
    text = help_text("train")
    lines = text.splitlines()
    assert lines[0].startswith("python -m review_cls.train ")
    experiments = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))
    assert f"  +experiment: {', '.join(experiments)}" in lines
    data_line = next(line for line in lines if line.startswith("  data: "))
    assert "demo" in data_line.removeprefix("  data: ").split(", ")
    assert not any(line.startswith(("  hydra:", "  +hydra:")) for line in lines), "Hydra's own group is left out"


def test_train_help_shows_top_level_and_nested_settings_with_the_comment_above_them():
    lines = help_text("train").splitlines()
    seed = next(line for line in lines if line.startswith("  seed="))
    assert seed.split("    #")[0] == "  seed=42"
    temperature = next(line for line in lines if line.startswith("  calibration.temperature="))
    assert "temperature scaling" in temperature
    assert not any(line.startswith("  calibration=") for line in lines), "a block is shown by its nested keys"


def test_settings_pairs_each_key_with_the_comment_just_above_and_ends_a_block_at_the_next_top_level_key():
    lines = ["# the seed", "seed: 7", "block:", "  # inner comment", "  inner: 3", "after: x", "  stray: 1"]
    assert settings(lines) == [("seed", "7", "the seed"), ("block.inner", "3", "inner comment"), ("after", "x", "")]


def test_options_are_the_sorted_yaml_names_of_a_group_folder():
    found = options("experiment")
    assert found == sorted(found)
    assert "baseline_ce" in found and "rdrop" in found


def test_answer_help_prints_and_exits_0_only_when_asked(capsys):
    answer_help("train", ["seed=1"])
    assert capsys.readouterr().out == ""
    with pytest.raises(SystemExit) as stopped:
        answer_help("train", ["seed=1", "-h"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == help_text("train")


@pytest.mark.parametrize("command, examples", [
    ("train", "Nested keys of a group: data.path=..., model.pretrained=..., trainer.default_root_dir=... "),
    ("audit", "Nested keys of a group: data.path=..., model.pretrained=..., trainer.default_root_dir=... "),
    ("predict", None),
    ("select", None),
])
def test_the_footer_shows_nested_keys_of_the_commands_own_groups_only(command, examples):
    footer = help_text(command).splitlines()[-1]
    if examples is None:
        assert "Nested keys" not in footer and "model.lr" not in footer and footer.startswith("(the composed config")
    else:
        assert footer.startswith(examples), footer
