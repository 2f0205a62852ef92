"""``ZerobusWrapper(..., log_attributes=...)``: every log record of the wrapper carries the attributes (the Spark data
source gives each task's identity), also after ``shutdown()`` and a new send; what a log line cannot carry is a
``ConfigurationError`` naming the attribute, raised by Go's rule (``core.LogAttributes``) or, for values JSON cannot
carry at all, before."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, ConfigurationError, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_every_record_carries_the_attributes(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    log_file = tmp_path / "zerobus.log"
    config = server.config(table_name, observability_config={"log_level": "debug", "log_file": str(log_file)})
    attrs = {"worker": "w-7", "shard": 3, "ratio": 0.5, "primary": True}
    with ZerobusWrapper(config, log_attributes=attrs) as w:
        assert w.send_batch(id_batch(0, 5)).success
        w.shutdown()
        assert w.send_batch(id_batch(5, 5)).success  # a new Go wrapper: the same attributes
    with ZerobusWrapper(config) as plain:
        assert plain.send_batch(id_batch(10, 5)).success
    assert stored_ids(server, table_name) == list(range(15))
    lines = [json.loads(x) for x in log_file.read_text().splitlines()]
    tagged = [x for x in lines if "worker" in x]
    created = [x for x in lines if x["msg"] == "zerobus wrapper created"]
    assert len(created) == 3 and sum("worker" in x for x in created) == 2, created
    for x in tagged:
        assert (x["worker"], x["shard"], x["ratio"], x["primary"]) == ("w-7", 3, 0.5, True), x
    assert len(tagged) > 2  # streams opened and closed too, not only the creations


@pytest.mark.parametrize(
    ("attrs", "want"),
    [
        ({"shard": {"p": 1}}, 'log attribute "shard": a JSON object'),
        ({"ids": [1, 2]}, 'log attribute "ids": a JSON list'),
        ({"": "x"}, "an empty name"),
        ({"a": None}, 'log attribute "a": no value'),
        ({"when": datetime.datetime(2026, 12, 7)}, "log_attributes: Object of type datetime"),
    ],
)
def test_what_a_log_line_cannot_carry_is_refused(
    server: LocalServer, table_name: str, attrs: dict[str, object], want: str
) -> None:
    with pytest.raises(ConfigurationError, match="log") as e:
        ZerobusWrapper(server.config(table_name), log_attributes=attrs)  # type: ignore[arg-type]
    assert want in str(e.value)


def test_async_wrapper_takes_them_too(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    log_file = tmp_path / "zerobus.log"
    config = server.config(table_name, observability_config={"log_level": "debug", "log_file": str(log_file)})

    async def send() -> None:
        async with AsyncZerobusWrapper(config, log_attributes={"worker": "async-1"}) as w:
            assert (await w.send_batch(id_batch(0, 3))).success

    asyncio.run(send())
    assert stored_ids(server, table_name) == [0, 1, 2]
    lines = [json.loads(x) for x in log_file.read_text().splitlines()]
    created = [x for x in lines if x["msg"] == "zerobus wrapper created"]
    assert [x.get("worker") for x in created] == ["async-1"], created
    with pytest.raises(ConfigurationError, match='log attribute "w": a JSON list'):
        AsyncZerobusWrapper(config, log_attributes={"w": [1]})  # type: ignore[dict-item]
