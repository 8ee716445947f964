"""``--help`` of a command read from conf/: the usage, config groups with their options, and settings with comments."""

from __future__ import annotations

import importlib

import pytest

from review_cls.command_help import COMMANDS, answer_help, help_text, options, settings
from tests.helpers import CONF_DIR


def test_train_help_lists_its_groups_with_their_options_and_the_appended_experiment_group():
    text = help_text("train")
    lines = text.splitlines()
    assert lines[0].startswith("python -m review_cls.train ")
    experiments = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))
    ablations = sorted(f"ablation/{path.stem}" for path in (CONF_DIR / "experiment" / "ablation").glob("*.yaml"))
    assert f"  +experiment: {', '.join(experiments + ablations)}" in lines
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


def test_options_are_a_group_folders_yaml_names_then_its_subfolders_as_plus_group_takes_them():
    found = options("experiment")
    top, nested = found[:found.index("ablation/baseline_ce")], found[found.index("ablation/baseline_ce"):]
    assert top == sorted(top) and "chinese" in top and all("/" not in name for name in top)
    assert nested == sorted(nested) and "ablation/rdrop" in nested and all("/" in name for name in nested)
    assert "rdrop" not in found


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
    ("select", "(the composed config"),
])
def test_the_footer_shows_nested_keys_of_the_commands_own_groups_only(command, examples):
    footer = help_text(command).splitlines()[-2]
    assert footer.startswith(examples), footer


def test_a_command_without_data_or_model_groups_does_not_advertise_them():
    footer = help_text("predict").splitlines()[-2]
    assert not any(f"{group}." in footer for group in ("data", "model", "trainer")), footer


@pytest.mark.parametrize("command", COMMANDS)
def test_every_listed_command_has_its_config_and_shim_and_its_help_names_the_others(command):
    assert (CONF_DIR / f"{command}.yaml").is_file()
    assert callable(importlib.import_module(f"review_cls.{command}").main)
    assert f"Commands: {', '.join(COMMANDS)} " in help_text(command)


def test_the_list_holds_every_command_config():
    assert {path.stem for path in CONF_DIR.glob("*.yaml")} == set(COMMANDS)
