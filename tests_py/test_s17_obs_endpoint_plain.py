"""ObservabilityConfig.endpoint is sealed (a str subclass whose repr hides user:password) only when it holds user
information: a plain URL stays a plain str, so serialisers of ``dataclasses.asdict(obs)`` take it (yaml.safe_dump
refused the sealed str)."""

from __future__ import annotations

import dataclasses

import yaml

from zerobus_py import ObservabilityConfig


def test_plain_endpoint_stays_a_str_and_dumps() -> None:
    obs = ObservabilityConfig(endpoint="http://127.0.0.1:4317")
    assert type(obs.endpoint) is str
    assert yaml.safe_load(yaml.safe_dump(dataclasses.asdict(obs)))["endpoint"] == "http://127.0.0.1:4317"
    obs.endpoint = "http://127.0.0.1:4318"
    assert type(obs.endpoint) is str


def test_endpoint_with_user_information_stays_sealed() -> None:
    obs = ObservabilityConfig(endpoint="http://u:s3cr3t-obs@127.0.0.1:4317")
    assert obs.endpoint == "http://u:s3cr3t-obs@127.0.0.1:4317"
    assert "s3cr3t-obs" not in repr(obs) and "s3cr3t-obs" not in repr(vars(obs))
