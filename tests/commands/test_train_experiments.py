"""Every experiment composes and sets exactly the recipe it promises."""

import pytest
from hydra import compose, initialize_config_dir

from tests.helpers import CONF_DIR

EXPERIMENTS = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))
RECIPE_EXPERIMENTS = ["focal_dropout03", "baseline_ce", "undersample_only", "focal_only", "weighted_ce"]


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
    assert cfg.experiment_name == name
    assert cfg.hydra.run.dir.startswith(f"./lightning_logs/{name}/runs/")


def test_a_run_without_an_experiment_is_named_default():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", return_hydra_config=True)
    assert cfg.experiment_name == "default" and cfg.hydra.run.dir.startswith("./lightning_logs/default/runs/")


@pytest.mark.parametrize("name", RECIPE_EXPERIMENTS)
def test_recipe_experiments_share_the_day20_settings(name):
    cfg = _compose(f"+experiment={name}")
    assert cfg.data.max_length == 128 and cfg.data.batch_size == 32
    assert cfg.model.lr == 2e-5 and cfg.model.weight_decay == 0.1 and cfg.model.dropout == 0.3
    assert cfg.trainer.max_epochs == 15
    assert cfg.callbacks.early_stopping.monitor == "val/f1_macro"
    assert cfg.callbacks.model_checkpoint.monitor == "val/f1_macro"


def test_focal_dropout03_is_the_day20_recipe():
    cfg = _compose("+experiment=focal_dropout03")
    assert cfg.data.resampling.strategy == "undersample"
    assert cfg.model.gamma == 2.0 and cfg.model.alpha is None
    assert 0 < cfg.model.warmup_ratio < 1


@pytest.mark.parametrize(
    ("name", "strategy", "gamma", "alpha"),
    [
        ("baseline_ce", "none", 0.0, None),
        ("undersample_only", "undersample", 0.0, None),
        ("focal_only", "none", 2.0, None),
        ("weighted_ce", "none", 0.0, "auto"),
    ],
)
def test_ablations_change_only_the_imbalance_handling(name, strategy, gamma, alpha):
    cfg = _compose(f"+experiment={name}")
    assert (cfg.data.resampling.strategy, cfg.model.gamma, cfg.model.alpha) == (strategy, gamma, alpha)


def test_pooling_is_cls_by_default_and_mean_where_measured_to_pay():
    assert _compose().model.pooling == "cls"
    assert _compose("+experiment=char_bert").model.pooling == "mean"
    assert _compose("+experiment=mean_pooling").model.pooling == "mean"


def test_encoder_swaps_by_one_key():
    assert _compose("model=bert_base_chinese").model.pretrained == "bert-base-chinese"
    assert _compose("model=hub", "model.pretrained=/models/mine").data.tokenizer == "/models/mine"


def test_own_file_config_takes_columns_and_sheet():
    cfg = _compose("data=file", "data.path=r.xlsx", "data.text_column=content", "data.label_column=category",
                   "data.sheet_name=Sheet2")
    assert (cfg.data.path, cfg.data.text_column, cfg.data.label_column, cfg.data.sheet_name) == (
        "r.xlsx", "content", "category", "Sheet2")
