"""Session 22 (sparkfix), s22 review sparkdocs M2: ``${NAME}`` in an option (and a setting not given as one) is read
in the Python worker Spark's driver starts to plan the write, not in the application's process: the error of a variable
that is not set there says where it looked, what that worker's environment holds, and the ways to get the value there.
"""

from __future__ import annotations

import uuid

import pytest

from zerobus_py import ConfigurationError
from zerobus_py import spark as zspark

_PLANNER = "the Python worker that Spark's driver started to plan the write"


def test_an_unset_variable_is_said_to_be_missing_where_spark_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "S22_SPARKFIX_" + uuid.uuid4().hex[:8].upper()
    monkeypatch.delenv(name, raising=False)
    base = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1"}

    # a secret that is wholly ${NAME}
    with pytest.raises(ConfigurationError) as info:
        zspark._config_from_options({**base, "client_secret": f"${{{name}}}"})
    text = info.value.message
    assert f"option client_secret references ${{{name}}}, which is not set in the environment of {_PLANNER}" in text
    assert "variables the driver had when the Spark session started, and the session's spark.executorEnv.*" in text
    assert "(os.environ[...] = ...) is not there" in text, text
    assert f'spark.executorEnv.{name}, or give the value itself: .option("client_secret", os.environ["{name}"])' in text
    assert info.value.keys == ["client_secret"]

    # ${NAME} inside another option's value (expanded by the Go core's rule)
    with pytest.raises(ConfigurationError) as info:
        zspark._config_from_options({**base, "table_name": f"main.${{{name}}}.t"})
    text = info.value.message
    assert f"table_name: references ${{{name}}}, which is not set in the environment (expanded in {_PLANNER};" in text
    assert f'spark.executorEnv.{name}, or give the value itself in .option("table_name", ...))' in text, text

    # another refusal of a reference says where it was expanded, without the hint about a missing variable
    with pytest.raises(ConfigurationError) as info:
        zspark._config_from_options({**base, "table_name": "main.${oops.t"})
    text = info.value.message
    assert f'unterminated "${{" (write "$${{" for a literal) (expanded in {_PLANNER})' in text, text
    assert "spark.executorEnv" not in text

    # set where the options are read, the same references work
    monkeypatch.setenv(name, "from-env")
    config = zspark._config_from_options({**base, "client_secret": f"${{{name}}}", "table_name": f"main.${{{name}}}.t"})
    assert config.table_name == "main.from-env.t"
    assert config.to_settings(include_secret=True)["client_secret"] == "from-env"
