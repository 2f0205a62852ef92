"""LocalServer.create_table and columns with a name the server refuses: a ValueError with the server's words
naming it. A "/" (or "?", "#", "..") used to change the request's path: "not found" from create_table, [] from
columns; an empty name matched no route at all."""

from __future__ import annotations

import uuid

import pytest

from zerobus_py.local import LocalServer


@pytest.mark.parametrize(
    "name",
    ["main.default.a/b", "main.default.<i>x</i>", "a/b", "main.default.a?b", "main.default.a#b", "..", "a%2Fb", ""],
)
def test_create_table_and_columns_name_the_bad_name(server: LocalServer, name: str) -> None:
    want = f'invalid table name "{name}"'
    with pytest.raises(ValueError, match=r"^zerobus: local server: ") as ei:
        server.create_table(name, "id BIGINT")
    assert want in str(ei.value)
    with pytest.raises(ValueError, match=r"^zerobus: local server: ") as ei:
        server.columns(name)
    assert want in str(ei.value)
    assert name not in server.tables()
    # a valid name still reaches its table: [] before it exists, its columns after
    valid = f"main.s17.cols_{uuid.uuid4().hex[:8]}"
    assert server.columns(valid) == []
    server.create_table(valid, "id BIGINT NOT NULL, tag STRING")
    assert [(c["name"], c["type_text"], c["nullable"]) for c in server.columns(valid)] == [
        ("id", "bigint", False),
        ("tag", "string", True),
    ]
