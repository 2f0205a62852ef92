"""LocalServer(allow_any_token=..., disable_token_exchange=..., workspace_id=...):
the Go server's Options.AllowAnyToken, DisableTokenExchange and WorkspaceID,
which `zerobus local` sets with -allow-any-token, -no-token-exchange and
-workspace-id, reach the server from Python too (issue #17: every surface sets
the same options)."""

from __future__ import annotations

import base64
import inspect
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, make_order, options
from zerobus.sdk.sync import ZerobusSdk

from zerobus_py import ConfigurationError
from zerobus_py.local import LocalServer


class MadeUpToken(zcore.HeadersProvider):  # type: ignore[misc]
    """A custom headers provider with a token the server never issued."""

    def __init__(self, table: str) -> None:
        super().__init__()
        self.table = table

    def get_headers(self) -> list[tuple[str, str]]:
        return [("authorization", "Bearer made-up-token"), ("x-databricks-zerobus-table-name", self.table)]


def send_with_made_up_token(server: LocalServer, table: str, ids: list[int]) -> None:
    sdk = ZerobusSdk(server.endpoint, server.workspace_url)
    stream = sdk.create_stream(
        table_properties=zcore.TableProperties(table, ORDER), options=options(), headers_provider=MadeUpToken(table)
    )
    for i in ids:
        stream.ingest_record_offset(make_order(i).SerializeToString())
    stream.flush()
    stream.close()


def test_allow_any_token_lets_a_made_up_token_in() -> None:
    table = "main.auth.any_token"
    with LocalServer(allow_any_token=True) as server:
        send_with_made_up_token(server, table, [1, 2, 3])
        assert server.table(table).column("id").to_pylist() == [1, 2, 3]
    with LocalServer() as server:  # the default: only tokens this server issued
        with pytest.raises(zcore.ZerobusException):
            send_with_made_up_token(server, table, [1])
        assert server.record_count(table) == 0
        assert server.stats()["records_stored"] == 0


JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln"


def exchange(server: LocalServer) -> tuple[int, dict[str, object]]:
    """An RFC 8693 token-exchange request (an IdP JWT, no client secret) to the server's token endpoint."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "subject_token": JWT,
            "scope": "all-apis",
        }
    ).encode()
    req = urllib.request.Request(
        server.workspace_url + "/oidc/v1/token",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_disable_token_exchange_refuses_the_grant() -> None:
    with LocalServer() as server:  # the default: the grant is served
        status, body = exchange(server)
        assert status == 200 and body.get("access_token")
        assert server.stats()["tokens_issued"] == 1
    with LocalServer(disable_token_exchange=True) as server:
        status, body = exchange(server)
        assert status == 400 and "access_token" not in body
        stats = server.stats()
        assert stats["tokens_issued"] == 0 and stats["tokens_rejected"] == 1


def workspace_token(server: LocalServer, workspace: str) -> tuple[int, dict[str, object]]:
    """A client-credentials token request whose resource names ``workspace``."""
    details = [
        {
            "type": "unity_catalog_privileges",
            "privileges": ["USE CATALOG"],
            "object_type": "CATALOG",
            "object_full_path": "main",
        },
        {
            "type": "unity_catalog_privileges",
            "privileges": ["USE SCHEMA"],
            "object_type": "SCHEMA",
            "object_full_path": "main.default",
        },
        {
            "type": "unity_catalog_privileges",
            "privileges": ["SELECT", "MODIFY"],
            "object_type": "TABLE",
            "object_full_path": "main.default.t",
        },
    ]
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "scope": "all-apis",
            "resource": f"api://databricks/workspaces/{workspace}/zerobusDirectWriteApi",
            "authorization_details": json.dumps(details),
        }
    ).encode()
    req = urllib.request.Request(
        server.workspace_url + "/oidc/v1/token",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    pair = base64.b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()
    req.add_header("Authorization", "Basic " + pair)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_workspace_id_is_accepted_in_the_resource() -> None:
    with LocalServer(workspace_id="zerobus-box") as server:
        status, body = workspace_token(server, "zerobus-box")
        assert status == 200 and body.get("access_token")
    with LocalServer() as server:  # the default: 127 and localhost only
        status, body = workspace_token(server, "zerobus-box")
        assert status == 400 and 'resource names workspace "zerobus-box"' in str(body.get("error_description"))


@pytest.mark.parametrize("keyword", ["allow_any_token", "disable_token_exchange"])
def test_wrong_type_names_the_keyword(keyword: str) -> None:
    with pytest.raises(ConfigurationError) as ei:
        LocalServer(**{keyword: "yes"})
    assert f"{keyword}='yes' must be true or false" in str(ei.value)
    assert ei.value.keys == [keyword]


def test_options_table_names_every_keyword() -> None:
    """docs/local-server.md's table of the options on each surface names each LocalServer keyword, and each keyword
    it names is one (cli/local_parity_test.go checks the table against Options and the flags)."""
    page = (Path(__file__).parent.parent / "docs" / "local-server.md").read_text(encoding="utf-8")
    section = page.split("## Options on each surface", 1)[1]
    named = set()
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) >= 4 and cells[1].strip().startswith("`"):
            named |= set(re.findall(r"`(\w+)=", cells[3]))
    params = set(inspect.signature(LocalServer).parameters)
    assert named == params, (sorted(named - params), sorted(params - named))
