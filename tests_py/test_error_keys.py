"""``err.keys`` names the settings at fault, by keyword, for the failures whose message names them: code that
reacts to a failure (an alert saying which setting to fix, a retry with another table) need not parse the text."""

from __future__ import annotations

import pyarrow as pa
import pytest

from zerobus_py import AuthenticationError, TransmissionError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

BATCH = pa.record_batch({"id": [1, 2]})


def _failure(config: object) -> ZerobusError:
    with ZerobusWrapper(config) as w, pytest.raises(ZerobusError) as err:  # type: ignore[arg-type]
        w.send_batch(BATCH)
    return err.value


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_rejected_credentials_name_their_settings(server: LocalServer, table_name: str, transport: str) -> None:
    """A 401 from the token endpoint said "client_id/client_secret rejected ... unity_catalog_url is its
    workspace" with ``keys == []``."""
    err = _failure(server.config(table_name, client_secret="wrong", retry_max_attempts=1, transport=transport))
    assert isinstance(err, AuthenticationError), err
    assert err.keys == ["client_id", "client_secret", "unity_catalog_url"], err.details
    assert "client_id/client_secret rejected" in str(err) and "wrong" not in str(err)


def test_a_workspace_url_without_a_token_endpoint_names_unity_catalog_url(server: LocalServer, table_name: str) -> None:
    err = _failure(server.config(table_name, unity_catalog_url=server.workspace_url + "/nowhere", retry_max_attempts=1))
    assert isinstance(err, AuthenticationError), err
    assert err.keys == ["unity_catalog_url"] and err.key == "unity_catalog_url", err.details
    assert "no token endpoint at unity_catalog_url" in str(err)


def test_a_missing_table_names_table_name(table_name: str) -> None:
    with LocalServer(auto_create_tables=False) as server:
        err = _failure(server.config(table_name, retry_max_attempts=1))
    assert isinstance(err, TransmissionError) and err.grpc_code == "NOT_FOUND", err
    assert err.keys == ["table_name"], err.details
    assert "check table_name" in str(err)


def test_schema_and_row_failures_name_no_setting(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(pa.table({"id": pa.array([1, 2**63 + 1], pa.uint64())}))
    assert res.failed_count == 1 and res.failure is not None and res.failure.keys == []
