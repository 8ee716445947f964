"""One fold of an audit: its reviews written as split files in the data's own column names, and the run's config
turned into one that reads them and only fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir

from review_cls.data.prepare import LabeledReviews
from review_cls.labeling.label_audit import fold_training_config, write_fold_tables
from tests.helpers import CONF_DIR


def test_a_fold_trains_on_its_own_split_files_without_checkpoints_or_validation(tmp_path):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="audit", overrides=["data=file", "data.path=labeled.xlsx", "data.sheet_name=2",
                                                      "data.text_column=content", "data.label_column=category"])
    train = LabeledReviews(np.arange(2), ["slow app", "late parcel"], ["bug", "delivery"], "labeled.xlsx")
    held = LabeledReviews(np.arange(2, 3), ["crash"], ["bug"], "labeled.xlsx")
    paths = write_fold_tables(cfg, train, held, tmp_path / "fold0")
    assert pd.read_csv(paths["train"]).to_dict("list") == {"content": train.texts, "category": train.labels}
    assert paths["val"] == paths["test"] and pd.read_csv(paths["test"])["content"].tolist() == ["crash"]
    fold_cfg = fold_training_config(cfg, tmp_path / "fold0", paths)
    assert fold_cfg.data.split_paths == paths
    assert fold_cfg.data.sheet_name is None and fold_cfg.data.encoding == "utf-8"
    assert fold_cfg.trainer.enable_checkpointing is False and fold_cfg.trainer.limit_val_batches == 0
    assert cfg.data.sheet_name == 2 and not cfg.data.get("split_paths")  # the run's own config is left as it was
