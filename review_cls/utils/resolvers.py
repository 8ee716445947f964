"""The OmegaConf resolvers conf/ uses, registered when ``review_cls`` is imported (every command and test does)."""

from __future__ import annotations

from typing import Any

from omegaconf import OmegaConf


def chosen_experiment(fallback: str, *, _root_: Any) -> str:
    """The NAME of ``+experiment=NAME`` (Hydra's choice for the experiment group), else ``fallback``: runs are named
    after their experiment file without each file repeating its own name. A file in a subfolder
    (``+experiment=ablation/rdrop``, or ``+experiment/ablation=rdrop`` as a sweep over the subfolder spells it) names
    one folder, ``ablation-rdrop``, not a folder inside another (a multirun's ``<job number>_<name>`` folder would
    split in two). Read from the running job's Hydra config, or from the ``hydra`` node of a config composed with
    ``return_hydra_config=True``."""
    from hydra.core.hydra_config import HydraConfig  # only when a config resolves: importing review_cls stays light

    if HydraConfig.initialized():
        choices = HydraConfig.get().runtime.choices
    else:
        choices = OmegaConf.select(_root_, "hydra.runtime.choices", default=None) or {}
    name = choices.get("experiment") or next((f"{group.removeprefix('experiment/')}/{option}"
                                              for group, option in choices.items()
                                              if group.startswith("experiment/") and option), None)
    return str(name).replace("/", "-") if name else fallback


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("experiment_or"):
        OmegaConf.register_new_resolver("experiment_or", chosen_experiment)
