"""Settings and their defaults have one source: the ``KfpSettings`` fields (provider info derives from them)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from airflow_kfp.config import RUNNERS, KfpSettings, Runner
from airflow_kfp.get_provider_info import get_provider_info


def test_provider_config_section_is_the_settings_class() -> None:
    options = get_provider_info()["config"]["kfp"]["options"]
    assert list(options) == [f.name for f in fields(KfpSettings)]
    defaults = KfpSettings()
    for name, option in options.items():
        default = getattr(defaults, name)
        assert option["default"] == str(default)
        assert option["type"] == ("boolean" if isinstance(default, bool) else "string")
        assert option["description"]


def test_runner_names_are_an_enum() -> None:
    assert RUNNERS == ("local", "kubernetes") and Runner("kubernetes") is Runner.KUBERNETES
    assert KfpSettings().with_overrides(runner=Runner.KUBERNETES).runner == "kubernetes"
    with pytest.raises(ValueError, match="runner is 'docker'; use one of local, kubernetes"):
        KfpSettings().with_overrides(runner="docker")
