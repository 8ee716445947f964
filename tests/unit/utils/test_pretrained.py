"""Where a packaged, local or hub model is found."""

import pytest

from review_cls.errors import ConfigError
from review_cls.utils.pretrained import resolve_pretrained

PACKAGED = "packaged:all-MiniLM-L6-v2"


def test_hub_names_and_folders_pass_through_and_unknown_packaged_fails():
    assert resolve_pretrained("bert-base-chinese") == "bert-base-chinese"
    assert resolve_pretrained("/models/mine") == "/models/mine"
    with pytest.raises(ConfigError, match="Unknown packaged model"):
        resolve_pretrained("packaged:nope")
