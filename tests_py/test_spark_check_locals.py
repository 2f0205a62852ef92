"""The driver's schema check of a streaming write leaves no frame local holding the client secret: error
reporters that capture locals (Sentry, rich, pytest -l) print every frame's variables."""

from __future__ import annotations

import tempfile
import traceback
import uuid

import pytest
from pyspark.sql.types import LongType, StructField, StructType

from zerobus_py import ZerobusError
from zerobus_py import spark as zspark
from zerobus_py.local import LocalServer


def test_streaming_check_keeps_no_secret_in_frame_locals(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    table = f"main.pytest.check_locals_{uuid.uuid4().hex[:8]}"
    server.create_table(table, "id STRING NOT NULL")
    monkeypatch.setenv("ZEROBUS_CLIENT_SECRET", server.client_secret)
    options = {
        "endpoint": server.endpoint,
        "table_name": table,
        "unity_catalog_url": server.workspace_url,
        "client_id": server.client_id,
        "checkpointLocation": tempfile.mkdtemp(),
    }
    with pytest.raises(ZerobusError) as ei:
        zspark._Job(options, StructType([StructField("id", LongType())]), streaming=True)
    # the frames of the package only (this test's own frame holds the server, whose secret it may read)
    te = traceback.TracebackException.from_exception(ei.value, capture_locals=True)
    ours = [f for f in te.stack if "/zerobus_py/" in f.filename]
    assert ours, "the error should come from zerobus_py's frames"
    for frame in ours:
        for name, value in (frame.locals or {}).items():
            assert server.client_secret not in value, f"{frame.name}: local {name} holds the secret"
