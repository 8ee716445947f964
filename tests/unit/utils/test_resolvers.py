"""The ``experiment_or`` resolver behind conf/train.yaml's ``experiment_name``: the chosen experiment, else the
fallback."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from review_cls.utils.resolvers import register_resolvers
from tests.helpers import CONF_DIR


@pytest.fixture(autouse=True)
def no_running_job(monkeypatch):
    """Each test decides whether a Hydra job is running, whatever an earlier test left set."""
    monkeypatch.setattr(HydraConfig.instance(), "cfg", None)


def named(choices: dict | None) -> str:
    node = {"experiment_name": "${experiment_or:default}"}
    if choices is not None:
        node["hydra"] = {"runtime": {"choices": choices}}
    return OmegaConf.create(node).experiment_name


def test_the_chosen_experiment_names_the_run():
    assert named({"experiment": "chinese", "model": "minilm"}) == "chinese"


def test_an_experiment_in_a_subfolder_names_one_folder_however_it_was_chosen():
    assert named({"experiment": "ablation/rdrop"}) == "ablation-rdrop"
    assert named({"experiment/ablation": "rdrop", "model": "minilm"}) == "ablation-rdrop"  # a sweep's glob(*)
    assert named({"experiment/ablation": None}) == "default"


def test_the_fallback_names_the_run_without_an_experiment_choice_or_without_a_hydra_node():
    assert named(None) == "default"
    assert named({"model": "minilm"}) == "default"
    assert named({"experiment": None}) == "default"


def test_a_running_jobs_hydra_config_wins_over_the_configs_own_node(monkeypatch):
    running = OmegaConf.create({"hydra": {"runtime": {"choices": {"experiment": "chinese"}}}})
    monkeypatch.setattr(HydraConfig.instance(), "cfg", running)
    assert named({"experiment": "rdrop"}) == "chinese"
    assert named(None) == "chinese"


def test_train_config_is_named_after_the_experiment_file_it_was_composed_with():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        chosen = compose(config_name="train", overrides=["+experiment=ablation/rdrop"], return_hydra_config=True)
        swept = compose(config_name="train", overrides=["+experiment/ablation=rdrop"], return_hydra_config=True)
        plain = compose(config_name="train", return_hydra_config=True)
    assert chosen.experiment_name == swept.experiment_name == "ablation-rdrop"
    assert chosen.model.rdrop_alpha == swept.model.rdrop_alpha == 1.0
    assert plain.experiment_name == "default"


def test_registering_again_keeps_the_one_resolver():
    register_resolvers()
    register_resolvers()
    assert OmegaConf.has_resolver("experiment_or")
    assert named({"experiment": "weighted_ce"}) == "weighted_ce"
