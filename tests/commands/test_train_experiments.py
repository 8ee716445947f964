"""Every experiment composes and sets exactly the recipe it promises; each ablation changes one thing of its
reference; an ablation typed without its folder stops with an error that names it."""

import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.helpers import CONF_DIR, REPO_ROOT

EXPERIMENTS = sorted(path.relative_to(CONF_DIR / "experiment").with_suffix("").as_posix()
                     for path in (CONF_DIR / "experiment").rglob("*.yaml"))
ONE_BUDGET = ["focal_dropout03", "ablation/baseline_ce", "ablation/undersample_only", "ablation/focal_only",
              "ablation/weighted_ce"]


def _compose(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="train", overrides=list(overrides))


def test_default_config_is_the_offline_demo_job():
    cfg = _compose()
    assert cfg.data.path == "demo:shopping_app_reviews_en.csv"
    assert cfg.model.pretrained == "packaged:all-MiniLM-L6-v2"
    assert cfg.data.tokenizer == cfg.model.pretrained
    assert cfg.trainer.precision == "auto"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_names_its_runs(name):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=[f"+experiment={name}"], return_hydra_config=True)
    folder = name.replace("/", "-")  # ablation/rdrop runs in lightning_logs/ablation-rdrop/
    assert cfg.experiment_name == folder
    assert cfg.hydra.run.dir.startswith(f"./lightning_logs/{folder}/runs/")


def test_a_run_without_an_experiment_is_named_default():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", return_hydra_config=True)
    assert cfg.experiment_name == "default" and cfg.hydra.run.dir.startswith("./lightning_logs/default/runs/")


def test_the_experiment_folder_holds_the_recommended_recipes_and_the_reproduction_beside_the_ablations():
    assert [name for name in EXPERIMENTS if "/" not in name] == ["char_bert", "chinese", "focal_dropout03"]
    assert all(name.startswith("ablation/") for name in EXPERIMENTS if "/" in name)


@pytest.mark.parametrize("name", ONE_BUDGET)
def test_the_reproduction_and_the_imbalance_ablations_share_one_training_budget(name):
    cfg = _compose(f"+experiment={name}")
    assert cfg.data.max_length == 128 and cfg.data.batch_size == 32
    assert cfg.model.lr == 2e-5 and cfg.model.weight_decay == 0.1 and cfg.model.dropout == 0.3
    assert cfg.trainer.max_epochs == 15
    assert cfg.callbacks.early_stopping.monitor == "val/f1_macro"
    assert cfg.callbacks.model_checkpoint.monitor == "val/f1_macro"


def test_focal_dropout03_reproduces_undersampling_with_focal_loss_and_dropout_03():
    cfg = _compose("+experiment=focal_dropout03")
    assert cfg.data.resampling.strategy == "undersample"
    assert cfg.model.gamma == 2.0 and cfg.model.alpha is None
    assert 0 < cfg.model.warmup_ratio < 1


def _leaves(node: dict, prefix: str = "") -> dict:
    """Every leaf of a config container by its dotted key."""
    leaves = {}
    for name, child in node.items():
        leaves.update(_leaves(child, f"{prefix}{name}.") if isinstance(child, dict) else {f"{prefix}{name}": child})
    return leaves


def _composed_leaves(experiment: str) -> dict:
    return _leaves(OmegaConf.to_container(_compose(f"+experiment={experiment}"), resolve=False))


def test_the_ablation_reference_is_plain_cross_entropy_on_the_natural_class_mix():
    cfg = _compose("+experiment=ablation/baseline_ce")
    assert (cfg.data.resampling.strategy, cfg.model.gamma, cfg.model.alpha) == ("none", 0.0, None)


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("focal_dropout03", {"data.resampling.strategy": "undersample", "model.gamma": 2.0}),
        ("ablation/undersample_only", {"data.resampling.strategy": "undersample"}),
        ("ablation/undersample_redrawn", {"data.resampling.strategy": "undersample",
                                          "data.resampling.every_epoch": True}),
        ("ablation/focal_only", {"model.gamma": 2.0}),
        ("ablation/weighted_ce", {"model.alpha": "auto"}),
        ("ablation/class_balanced", {"model.alpha": "effective:0.999"}),
        ("ablation/logit_adjusted", {"model.logit_adjustment": 1.0}),
        ("ablation/posthoc_adjusted", {"calibration.logit_adjustment": True}),
        ("ablation/layer_decay", {"model.layer_decay": 0.8}),
        ("ablation/mean_pooling", {"model.pooling": "mean"}),
        ("ablation/rdrop", {"model.rdrop_alpha": 1.0}),
        ("ablation/reinit_top", {"model.reinit_layers": 1}),
    ],
)
def test_each_ablation_and_the_reproduction_differ_from_the_reference_in_what_they_name_only(name, changed):
    reference, chosen = _composed_leaves("ablation/baseline_ce"), _composed_leaves(name)
    assert chosen.keys() == reference.keys()
    assert {key: value for key, value in chosen.items() if value != reference[key]} == changed


def test_an_ablation_typed_without_its_folder_stops_with_an_error_naming_the_option_to_type():
    result = subprocess.run([sys.executable, "-m", "review_cls.train", "+experiment=rdrop"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: +experiment=rdrop: there is no conf/experiment/rdrop.yaml; use "
                                     "+experiment=ablation/rdrop (conf/experiment/ablation/rdrop.yaml)")


def test_pooling_is_cls_by_default_and_mean_where_measured_to_pay():
    assert _compose().model.pooling == "cls"
    assert _compose("+experiment=char_bert").model.pooling == "mean"
    assert _compose("+experiment=ablation/mean_pooling").model.pooling == "mean"


def test_encoder_swaps_by_one_key():
    assert _compose("model=bert_base_chinese").model.pretrained == "bert-base-chinese"
    assert _compose("model=hub", "model.pretrained=/models/mine").data.tokenizer == "/models/mine"


def test_own_file_config_takes_columns_and_sheet():
    cfg = _compose("data=file", "data.path=r.xlsx", "data.text_column=content", "data.label_column=category",
                   "data.sheet_name=Sheet2")
    assert (cfg.data.path, cfg.data.text_column, cfg.data.label_column, cfg.data.sheet_name) == (
        "r.xlsx", "content", "category", "Sheet2")
