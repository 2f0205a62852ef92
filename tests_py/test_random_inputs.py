"""A randomized, differential round trip of the Python inputs users hold.

Each seed draws a random Unity Catalog table (every leaf type the local server supports, ARRAY / MAP / STRUCT of
them, nullable and NOT NULL columns) and random data for it in one of the forms users hold: a pandas DataFrame
(numpy dtypes, nullable extension dtypes, ``str`` / ``string[python]`` / ``string[pyarrow]``, categoricals,
datetime64 of every unit with and without a time zone, timedelta64, object columns of Python ints, floats, str,
bytes, dates, datetimes, Decimals, lists and dicts, ``pd.ArrowDtype`` columns), a polars DataFrame (Categorical,
Enum, List, Array, Struct, Datetime with a zone, Duration, Time, Decimal), a pyarrow Table, RecordBatch or
RecordBatchReader (also one reading an Arrow IPC stream), or an object with only ``__arrow_c_stream__`` or
``__arrow_c_array__``, with edge values (empty and sliced frames, all-null columns, unicode, integer limits, NaN and
infinities, dates and times at the edges, non-default indexes, columns in another order, a nullable column left
out). The inputs also differ from the table as users' data does (:meth:`Gen.skew`, drawn from a second random stream so
that a seed's table and values stay the same): names in another case, STRUCT fields in another order (dict keys
turning from row to row), left out or of no type, int64 / unsigned columns into TINYINT / SMALLINT / INT, float64
into FLOAT, floats into integer columns, integers into FLOAT / DOUBLE, DECIMAL given as text.

The rows are sent with ``ZerobusWrapper`` to the in-process ``LocalServer`` over ``protobuf`` and ``arrow_flight``,
and every stored field is compared with :func:`expect`, written from what the Python value means (the pandas,
polars or pyarrow documentation), not from pyarrow's conversion of it nor from the code under test. The per-row
results are checked too: every row reported durable is stored exactly once, every failed row is absent and its
``ConversionError`` names the row and a column path that really holds a value the table cannot take. An input the
package cannot take must raise a ``ZerobusError`` naming the column, and store nothing.

``make test`` runs :data:`SEEDS`. ``make py-roundtrip-long`` runs random seeds for ``PY_ROUNDTRIP_SECONDS``
(default 300) and prints each seed as it starts; replay one with
``ZEROBUS_PY_ROUNDTRIP_SEED=N .venv/bin/pytest tests_py/test_random_inputs.py -v``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import math
import os
import random
import re
import struct
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import UC_SCALAR_TYPES, as_stored

from zerobus_py import ConversionError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

if (
    int(pd.__version__.split(".")[0]) < 2
    or int(pl.__version__.split(".")[0]) < 1
    or int(pa.__version__.split(".")[0]) < 18
):
    # pandas < 2 keeps datetime64 in ns only, polars < 1 spells pl.Array(width, inner) and has no Float16, pyarrow
    # < 18 has no decimal32/64: the generator's forms need the newer releases (CI's main row has them)
    pytest.skip("the random round trip needs pandas >= 2, polars >= 1, pyarrow >= 18", allow_module_level=True)

D = decimal.Decimal
DEC = decimal.Context(prec=100, rounding=decimal.ROUND_DOWN)  # exact for 38 digits (the default context has 28)

#: The seeds ``make test`` runs (the first ones, and those that found bugs).
SEEDS = list(range(1, 25))

TRANSPORTS = ("protobuf", "arrow_flight")
KINDS = ("pandas", "polars", "table", "batch", "reader", "c_stream", "c_array", "ipc", "parquet", "dataset")
LEAVES = UC_SCALAR_TYPES
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
EPOCH_DAY = dt.date(1970, 1, 1)
US_PER = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}  # microseconds per unit (ns: divided by 1000)
INT64 = (-(2**63), 2**63 - 1)
STRINGS = [
    "",
    "a",
    "héllo",
    "日本語テキスト",
    "emoji 🎉 ✓",
    "nul\x00byte",
    "a string longer than twelve bytes",
    "tab\tnew\nline",
    '"quoted" \\ back',
    "x" * 300,
    "ǅ𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b\ufeff",
]
ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata")


#: What the runs compared (the long run prints it): inputs sent, rows stored and checked, rows failed, refusals.
STATS: Counter[str] = Counter()


class Bad(Exception):
    """A value the table cannot take: its row must fail, naming this path."""


# ---------------------------------------------------------------- columns


@dataclass
class Col:
    """A column or STRUCT field of the table: its Unity Catalog type and the form the input gives it in."""

    name: str
    uc: str
    not_null: bool = False
    precision: int = 0
    scale: int = 0
    elem: Col | None = None
    key: Col | None = None
    val: Col | None = None
    fields: list[Col] = field(default_factory=list)
    # the form: "spec" is the domain of the values (see gen_leaf / expect_leaf), "form" how the input holds them
    spec: tuple[Any, ...] = ()
    form: str = ""
    nulls: bool = False  # the generator puts nulls here
    arrow: Any = None  # a nested leaf's Arrow type
    # how the input differs from the table (Gen.skew): the name it gives (another case), a STRUCT's fields in the
    # input's order (indices into fields, the omitted ones left out), a nullable column or field left out or given
    # as nulls of no type (pyarrow's null, as a dict key always None infers), and the leaf's spec before it was
    # given a wider type or as text (its values are drawn from that spec first, so a seed's other values stay)
    bname: str = ""
    perm: list[int] | None = None
    omit: bool = False
    null_type: bool = False
    orig: tuple[Any, ...] = ()

    @property
    def batch_name(self) -> str:
        return self.bname or self.name

    def batch_fields(self) -> list[Col]:
        return [self.fields[i] for i in (self.perm if self.perm is not None else range(len(self.fields)))]

    def ddl(self) -> str:
        if self.uc == "ARRAY":
            assert self.elem is not None
            return f"ARRAY<{self.elem.ddl()}>"
        if self.uc == "MAP":
            assert self.key is not None and self.val is not None
            return f"MAP<{self.key.ddl()},{self.val.ddl()}>"
        if self.uc == "STRUCT":
            return "STRUCT<" + ",".join(f"{f.name}:{f.ddl()}" for f in self.fields) + ">"
        if self.uc == "DECIMAL":
            return f"DECIMAL({self.precision},{self.scale})"
        return self.uc

    def describe(self) -> str:
        named = f" named {self.bname!r}" if self.bname else ""
        skew = f" as {arrow_type(self)}" if self.uc == "STRUCT" and skewed(self) else ""
        return f"{self.name} {self.ddl()}{' NOT NULL' if self.not_null else ''} <- {self.form} {self.spec}{named}{skew}"


# Arrow types (for the pyarrow kinds, pd.ArrowDtype and nested values) per leaf: (spec, arrow type) choices.
def arrow_leaf_forms(uc: str, tr: str, c: Col) -> list[tuple[tuple[Any, ...], pa.DataType]]:
    flight = tr == "arrow_flight"
    out: list[tuple[tuple[Any, ...], pa.DataType]] = []
    if uc == "TINYINT":
        out = [(("int", 8, True), pa.int8())]
    elif uc == "SMALLINT":
        out = [(("int", 8, True), pa.int8()), (("int", 16, True), pa.int16()), (("int", 8, False), pa.uint8())]
    elif uc == "INT":
        out = [(("int", b, True), t) for b, t in ((8, pa.int8()), (16, pa.int16()), (32, pa.int32()))]
        out += [(("int", 8, False), pa.uint8()), (("int", 16, False), pa.uint16())]
    elif uc == "BIGINT":
        out = [(("int", 64, True), pa.int64()), (("int", 32, False), pa.uint32()), (("int", 64, False), pa.uint64())]
        out += [(("duration", u), pa.duration(u)) for u in ("s", "ms", "us", "ns")]
        out += [(("time", "s"), pa.time32("s")), (("time", "ms"), pa.time32("ms"))]
        out += [(("time", "us"), pa.time64("us")), (("time", "ns"), pa.time64("ns"))]
        if flight:
            out += [(("int", 32, True), pa.int32()), (("int", 16, False), pa.uint16())]
    elif uc == "FLOAT":
        out = [(("f32",), pa.float32()), (("f16",), pa.float16())]
    elif uc == "DOUBLE":
        out = [(("f64",), pa.float64())] + ([(("f32",), pa.float32())] if flight else [])
    elif uc == "BOOLEAN":
        out = [(("bool",), pa.bool_())]
    elif uc in ("STRING", "VARIANT"):
        spec = ("str",) if uc == "STRING" else ("json",)
        out = [(spec, t) for t in (pa.string(), pa.large_string(), pa.string_view())]
        out += [(spec, pa.dictionary(i, pa.string())) for i in (pa.int8(), pa.uint8(), pa.int32())]
        out += [(spec, pa.dictionary(pa.int16(), pa.large_string()))]
    elif uc == "BINARY":
        out = [(("bytes", None), t) for t in (pa.binary(), pa.large_binary(), pa.binary_view())]
        out += [(("bytes", 3), pa.binary(3))]
    elif uc == "DATE":
        out = [(("date_obj",), pa.date32()), (("days",), pa.date32()), (("date64",), pa.date64())]
    elif uc in ("TIMESTAMP", "TIMESTAMP_NTZ"):
        for u in ("s", "ms", "us", "ns"):
            out.append((("ts", u), pa.timestamp(u)))
            if uc == "TIMESTAMP":  # a zone other than UTC cannot go to TIMESTAMP_NTZ (both transports)
                out.append((("ts", u), pa.timestamp(u, tz=ZONES[len(out) % len(ZONES)])))
    elif uc == "DECIMAL":
        p, s = c.precision, c.scale
        out = [(("dec", p, s), pa.decimal128(p, s)), (("dec", p, s), pa.decimal256(p, s))]
        if p <= 9:
            out.append((("dec", p, s), pa.decimal32(p, s)))
        if p <= 18:
            out.append((("dec", p, s), pa.decimal64(p, s)))
    return out


# ---------------------------------------------------------------- generator


class Gen:
    def __init__(self, seed: int, tr: str) -> None:
        self.r = random.Random(f"{seed}/{tr}")
        # how the inputs differ from the table (skew): apart from r, so that a seed's tables and values stay
        self.x = random.Random(f"{seed}/{tr}/skew")
        self.tr = tr
        self.names = 0
        self.tmp = ""  # a directory for the Parquet files of the parquet and dataset kinds
        self.kind = self.r.choices(KINDS, weights=[4, 3, 1, 1, 1, 1, 1, 1, 1, 1])[0]  # mostly what users hold most

    def pct(self, p: int) -> bool:
        return self.r.randrange(100) < p

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    # -- the table and its forms

    def table(self) -> list[Col]:
        cols = [Col("rid", "BIGINT", not_null=True, spec=("int", 64, True), form=self.rid_form(), arrow=pa.int64())]
        for _ in range(1 + self.r.randrange(6)):
            cols.append(self.column(self.name("c")))
        return cols

    def rid_form(self) -> str:
        return {"pandas": "np:int64", "polars": "pl:Int64"}.get(self.kind, "arrow")

    def column(self, name: str) -> Col:
        roll = self.r.randrange(100)
        if roll < 10:
            c = self.array(name)
        elif roll < 17 and self.kind != "polars":  # polars has no map type
            c = self.map(name)
        elif roll < 26:
            c = self.struct(name)
        else:
            c = self.leaf(name, self.r.choice(LEAVES))
        c.not_null = self.pct(20)
        c.nulls = self.pct(70) and c.form not in NO_NULL_FORMS
        if c.not_null and self.pct(50):
            c.nulls = False
        return c

    def uc_leaf(self, name: str, uc: str) -> Col:
        c = Col(name, uc)
        if uc == "DECIMAL":
            c.precision = self.r.choice([1, 5, 9, 10, 18, 19, 30, 38])
            c.scale = self.r.randrange(c.precision + 1)
        return c

    def leaf(self, name: str, uc: str) -> Col:
        """A top-level leaf column in one of the forms of the seed's kind."""
        c = self.uc_leaf(name, uc)
        if self.kind in ("pandas", "polars"):
            c.spec, c.form = self.r.choice(
                pandas_forms(c, self.tr) if self.kind == "pandas" else polars_forms(c, self.tr)
            )
        else:
            (c.spec, c.arrow), c.form = self.r.choice(arrow_leaf_forms(uc, self.tr, c)), "arrow"
        return c

    def nested_leaf(self, name: str, uc: str) -> Col:
        """A leaf inside an ARRAY, MAP or STRUCT: an Arrow type (the value's form is its parent's)."""
        c = self.uc_leaf(name, uc)
        forms = arrow_leaf_forms(uc, self.tr, c)
        if self.kind == "polars":
            forms = [(s, t) for s, t in forms if polars_type(t) is not None and s[0] != "days"]
            if not forms:  # a type built here from Python values only as pyarrow types (polars_type)
                return self.nested_leaf(name, self.r.choice(("BIGINT", "DOUBLE", "STRING", "BOOLEAN", "DATE")))
        c.spec, c.arrow = self.r.choice(forms)
        if pa.types.is_dictionary(c.arrow):
            # pyarrow 26 builds a nested dictionary of more values than a narrow index type holds with wider
            # indices under the declared type (pa.array(..., map_(int16, dictionary(int8, string))) holds int16
            # indices; validate() passes): Go reads the declared width and refuses the batch ("invalid Arrow data")
            c.arrow = pa.dictionary(pa.int32(), c.arrow.value_type)
        c.form = "arrow"
        return c

    def array(self, name: str) -> Col:
        e = self.nested_leaf("element", self.r.choice(LEAVES)) if self.pct(80) else self.struct("element", True)
        e.nulls = self.pct(15)  # a null element fails its row
        c = Col(name, "ARRAY", elem=e)
        c.form = self.nested_form(c)
        return c

    def map(self, name: str) -> Col:
        k = self.nested_leaf("key", self.r.choice(("TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "STRING")))
        while k.spec[0] in ("duration", "time") or pa.types.is_dictionary(k.arrow):
            k = self.nested_leaf("key", k.uc)
        v = self.nested_leaf("value", self.r.choice(LEAVES))
        v.nulls = self.pct(15)  # a null value fails its row
        c = Col(name, "MAP", key=k, val=v)
        c.form = self.nested_form(c)
        return c

    def struct(self, name: str, inner: bool = False) -> Col:
        fields = [self.nested_leaf(f"f{k}", self.r.choice(LEAVES)) for k in range(1 + self.r.randrange(3))]
        for f in fields:
            f.nulls = self.pct(50)
        c = Col(name, "STRUCT", fields=fields)
        c.form = "arrow" if inner else self.nested_form(c)
        return c

    def nested_form(self, c: Col) -> str:
        if self.kind == "pandas":
            forms = ["pd:arrowdtype"]
            if c.uc == "ARRAY" and inferable(c.elem):
                forms.append("pd:object")
            if c.uc == "STRUCT" and all(inferable(f) for f in c.fields):
                forms.append("pd:object")
            form = self.r.choice(forms)
            if form == "pd:object":  # NaN inside is missing too, as in a top-level object column
                for leaf in (c.elem, *c.fields):
                    if leaf is not None:
                        leaf.form = "pd:object"
            return form
        if self.kind == "polars":
            if c.uc == "ARRAY" and c.elem is not None and c.elem.uc != "STRUCT" and self.pct(30):
                return "pl:array"
            return "pl:nested"
        return "arrow"

    # -- values

    def value(self, c: Col) -> Any:
        if c.nulls and self.pct(12):
            return None
        if c.uc == "ARRAY":
            assert c.elem is not None
            return [self.value(c.elem) for _ in range(self.r.choice([0, 1, 2, 3, 4]))]
        if c.uc == "MAP":
            assert c.key is not None and c.val is not None
            out: dict[Any, Any] = {}
            for _ in range(self.r.randrange(4)):
                k = self.leaf_value(c.key)
                out.setdefault(k, self.value(c.val))
            return list(out.items())
        if c.uc == "STRUCT":
            out = {f.name: self.value(f) for f in c.fields}
            return {k: None if f.omit or f.null_type else v for (k, v), f in zip(out.items(), c.fields, strict=True)}
        return self.leaf_value(c)

    def edge_int(self, lo: int, hi: int) -> int:
        k = self.r.randrange(6)
        if k == 0:
            return lo
        if k == 1:
            return hi
        if k == 2:
            return min(hi, max(lo, self.r.choice([0, 1, -1])))
        return self.r.randint(lo, hi)

    def leaf_value(self, c: Col) -> Any:
        s = c.spec
        kind = s[0]
        if kind in ("narrow", "f64to32", "dectext", "floatint", "intfloat"):
            base = self.leaf_value(Col(c.name, c.uc, precision=c.precision, scale=c.scale, spec=c.orig, form=c.form))
            return self.skewed_value(c, base)
        if kind == "int":
            bits, signed = s[1], s[2]
            if signed:
                return self.edge_int(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            if bits == 64 and self.pct(4):
                return self.r.randint(2**63, 2**64 - 1)  # over BIGINT: the row fails
            return self.edge_int(0, min(2**bits - 1, 2**63 - 1))
        if kind in ("duration", "ts"):
            return self.time_value(s[1], c.form)
        if kind == "time":
            return self.edge_int(0, 86_400 * {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[s[1]] - 1)
        if kind in ("f16", "f32", "f64"):
            k = self.r.randrange(8)
            if k == 0:
                return self.r.choice([0.0, -0.0, math.inf, -math.inf, math.nan, 1.5, -2.25])
            if k == 1:
                return self.r.choice(
                    {
                        "f64": [sys.float_info.max, -5e-324, 1e-310],
                        "f32": [3.4028234663852886e38, 1.401298464324817e-45],
                    }.get(kind, [65504.0, 6e-08])
                )
            v = (self.r.random() - 0.5) * 10 ** self.r.randrange(12 if kind != "f16" else 4)
            return v
        if kind == "bool":
            return self.pct(50)
        if kind == "str":
            if self.pct(60):
                return self.r.choice(STRINGS)
            return "".join(self.r.choice("aZ09_é中🎉 ") for _ in range(self.r.randrange(20)))
        if kind == "bytes":
            n = s[1] if s[1] is not None else self.r.randrange(30)
            return bytes(self.r.randrange(256) for _ in range(n))
        if kind == "date_obj":
            if self.pct(30):
                return self.r.choice([dt.date(1, 1, 1), dt.date(9999, 12, 31), EPOCH_DAY, dt.date(1969, 12, 31)])
            return dt.date.fromordinal(self.r.randint(1, dt.date(9999, 12, 31).toordinal()))
        if kind == "days":
            return self.edge_int(-(2**31), 2**31 - 1)
        if kind == "date64":
            if self.pct(50):
                return self.edge_int(-(10**6), 10**6) * 86_400_000 + self.edge_int(-86_399_999, 86_399_999)
            return self.edge_int(*INT64)  # mostly outside DATE: the row fails
        if kind == "dt_obj":  # a Python datetime: naive, or aware at any offset (a day inside years 1..9999)
            us = self.edge_int(-62_135_596_800_000_000 + 86_400 * 10**6, 253_402_300_799_999_999 - 86_400 * 10**6)
            if s[1] == "naive":
                return EPOCH_NAIVE + dt.timedelta(microseconds=us)
            off = dt.timedelta(minutes=self.r.choice([0, 60, -300, 330, 840, -720]))
            return (EPOCH + dt.timedelta(microseconds=us)).astimezone(dt.timezone(off))
        if kind == "dec":
            p, sc = s[1], s[2]
            k = self.r.randrange(5)
            if k == 0:
                digits = 0
            elif k == 1:
                digits = 10**p - 1
            else:
                digits = self.r.randrange(10 ** self.r.randint(1, p))
            v = DEC.scaleb(D(digits), -sc)
            if self.pct(30) and sc > 0:  # fewer fraction digits than the scale: the same number
                v = DEC.quantize(v, DEC.scaleb(D(1), -self.r.randrange(sc + 1)))
            return DEC.minus(v) if self.pct(50) else v
        if kind == "json":
            if self.pct(3):
                return self.r.choice(['{"a": 1', '{"k": 1, "k": 2}', "1 2", "", "nul"])  # the row fails
            return json.dumps(self.json_value(0), ensure_ascii=self.pct(50))
        raise AssertionError(s)

    def time_value(self, unit: str, form: str) -> int:
        """A timestamp or duration in unit: ordinary, before 1970, finer than microseconds, and at the int64
        limits (which overflow microseconds for seconds and milliseconds: the row fails). numpy's NaT is -2**63:
        not a value of a numpy or pandas form."""
        per = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[unit]
        k = self.r.randrange(6) if ",tz]" not in form else 5  # a zone conversion is made on values of years 1843..2096
        lo = -(2**63) + 1 if form.startswith(("np:", "pd:")) else -(2**63)
        if k == 0:
            return self.edge_int(lo, 2**63 - 1)
        if k == 1:
            lim = 2**63 - 1 if per >= 10**6 else (2**63 - 1) // (10**6 // per)
            return max(lo, self.r.choice([lim, -lim, min(lim + 1, 2**63 - 1), -lim - 1]))
        if k == 2:
            return -self.edge_int(0, 1000)
        return self.edge_int(-4 * 10**9, 4 * 10**9) * per // self.r.randint(1, per)

    def json_value(self, depth: int) -> Any:
        k = self.r.randrange(9 if depth < 2 else 6)
        if k == 0:
            return self.edge_int(-(2**40), 2**40)
        if k == 1:
            return self.r.choice([True, False, None])
        if k == 2:
            return self.r.choice([1.5, -0.25, 12345.678, 0.001, -7e3])
        if k in (3, 4, 5):
            return self.r.choice(STRINGS)
        if k in (6, 7):
            return [self.json_value(depth + 1) for _ in range(self.r.randrange(4))]
        return {f"k{i}": self.json_value(depth + 1) for i in range(self.r.randrange(4))}

    # -- how the inputs differ from the table (drawn from x)

    def xpct(self, p: int) -> bool:
        return self.x.randrange(100) < p

    def skew(self, cols: list[Col]) -> None:
        """Columns and STRUCT fields (at any depth) renamed in another case, left out when nullable, STRUCT fields
        in another order or of no type; integers in a wider type than the table's (pandas' and polars' int64),
        float64 into FLOAT, DECIMAL given as text. rid stays as it is: the rows' identity."""
        for c in cols[1:]:
            self.skew_col(c)
        self.skew_level(cols[1:], rename=15, omit=6, null_type=0)

    def skew_level(self, cols: list[Col], rename: int, omit: int, null_type: int) -> None:
        for c in cols:
            if self.xpct(rename):
                c.bname = other_case(c.name, self.x.randrange(3))
                STATS["skew: names in another case"] += 1
            if not c.not_null and self.xpct(omit):
                c.omit = True
                STATS["skew: nullable columns/fields left out"] += 1
            elif not c.not_null and null_type and self.xpct(null_type):
                c.null_type = True
                STATS["skew: STRUCT fields of no type"] += 1
        if cols and all(c.omit for c in cols):
            cols[0].omit = False

    def skew_col(self, c: Col) -> None:
        if c.uc == "ARRAY":
            assert c.elem is not None
            self.skew_col(c.elem)
        elif c.uc == "MAP":
            assert c.key is not None and c.val is not None
            if self.xpct(30):  # a key that does not fit fails its row, naming c[i].key
                self.retype(c.key)
            self.skew_col(c.val)
        elif c.uc == "STRUCT":
            for f in c.fields:
                self.skew_col(f)
            self.skew_level(c.fields, rename=20, omit=15, null_type=8)
            perm = [i for i, f in enumerate(c.fields) if not f.omit]
            if self.xpct(50):
                self.x.shuffle(perm)
                STATS["skew: STRUCTs with fields in another order"] += perm != sorted(perm)
            c.perm = perm
        elif self.xpct(30):
            self.retype(c)
            if c.orig:
                STATS[f"skew: leaves {c.spec[0]} ({c.form})"] += 1

    def retype(self, c: Col) -> None:
        """c (a leaf) in a wider type than the table's, a float into an integer column (pandas' int column holding
        None) or an integer into a FLOAT/DOUBLE column, or as text, in its form's family."""
        f = c.form
        if c.uc in INT_RANGE and c.spec[0] == "int" and self.xpct(35):
            if f == "arrow":
                c.arrow = pa.float64()
            elif f.startswith(("np:int", "np:uint", "pd:Int", "pd:UInt")):
                f = self.x.choice(["np:float64", "pd:Float64"])
            elif f.startswith(("pl:Int", "pl:UInt")):
                f = "pl:Float64"
            else:
                return
            c.orig, c.spec, c.form = c.spec, ("floatint",), f
            return
        if c.uc in ("FLOAT", "DOUBLE") and c.spec[0] in ("f16", "f32", "f64") and self.xpct(40):
            if f == "arrow":
                c.arrow = self.x.choice([pa.int64(), pa.uint64(), pa.int32()])
                spec = (pa.types.is_signed_integer(c.arrow), c.arrow.bit_width)
            elif f.startswith(("np:float", "pd:Float")):
                f, spec = ("pd:Int64" if c.nulls else "np:int64"), (True, 64)
            elif f.startswith("pl:Float"):
                f, spec = "pl:Int64", (True, 64)
            else:
                return
            c.orig, c.spec, c.form = c.spec, ("intfloat", *spec), f
            return
        if c.uc in ("TINYINT", "SMALLINT", "INT") and c.spec[0] == "int":
            if f == "arrow":
                wider = [pa.int64(), pa.int64(), pa.uint32(), pa.uint64()]
                if c.uc != "INT":
                    wider += [pa.int32()]
                c.arrow = self.x.choice(wider)
                spec = (pa.types.is_signed_integer(c.arrow), c.arrow.bit_width)
            elif f.startswith(("np:int", "np:uint", "pd:Int", "pd:UInt")):
                f = self.x.choice(["pd:Int64", "pd:UInt64"] if c.nulls else ["np:int64", "np:uint32", "pd:Int64"])
                spec = (not f.startswith(("np:u", "pd:U")), 64 if f.endswith("64") else 32)
            elif f.startswith(("pl:Int", "pl:UInt")):
                f = self.x.choice(["pl:Int64", "pl:Int64", "pl:UInt32", "pl:UInt64"])
                spec = (f.startswith("pl:Int"), int(f[-2:]))
            else:
                return
            c.orig, c.spec, c.form = c.spec, ("narrow", *spec), f
        elif c.uc == "FLOAT":
            f = {"np:float32": "np:float64", "np:float16": "np:float64", "pd:Float32": "pd:Float64"}.get(f, f)
            f = {"pl:Float32": "pl:Float64", "pl:Float16": "pl:Float64"}.get(f, f)
            if f == "arrow":
                c.arrow = pa.float64()
            elif f not in ("np:float64", "pd:Float64", "pl:Float64"):
                return
            c.orig, c.spec, c.form = c.spec, ("f64to32",), f
        elif c.uc == "DECIMAL" and c.spec[0] == "dec":
            if f == "arrow":
                c.arrow = pa.string() if self.kind == "polars" else self.x.choice([pa.string(), pa.large_string()])
            elif f.startswith("pd:"):
                f = self.x.choice(["pd:object", "pd:string[python]", "pd:str"])
            elif f == "pl:Decimal":
                f = "pl:String"
            else:
                return
            c.orig, c.spec, c.form = c.spec, ("dectext", c.precision, c.scale), f

    def skewed_value(self, c: Col, base: Any) -> Any:
        """A value of a retyped leaf, from x: integers around the table type's bounds (and the holder's), floats
        around FLOAT's, decimal text around base (the value the table's own type drew): exact, ties, other
        accepted forms, too large, not a number."""
        x = self.x
        kind = c.spec[0]
        if kind == "floatint":
            lo, hi = INT_RANGE[c.uc]
            vs = [float(lo), float(hi), float(lo) - 1, float(hi) + 1, 0.0, -0.0, 0.5, -1.5, 1e-300, math.nan]
            vs += [math.inf, -math.inf, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 1e30]
            k = x.randrange(3)
            if k == 0:
                return x.choice(vs)
            if k == 1:
                return float(x.randint(lo, hi))
            return (x.random() - 0.5) * 10 ** x.randrange(12)
        if kind == "intfloat":
            signed, bits = c.spec[1], c.spec[2]
            alo, ahi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            v = x.choice([alo, ahi, 0, 1, -1, 2**24, 2**24 + 1, 2**53, 2**53 + 1, -(2**53), 2**63 - 1024])
            if x.randrange(3) == 0:
                v = x.randint(alo, ahi)
            return min(ahi, max(alo, v))
        if kind == "narrow":
            signed, bits = c.spec[1], c.spec[2]
            alo, ahi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            tlo, thi = INT_RANGE[c.uc]
            v = x.choice([tlo, thi, tlo - 1, thi + 1, 0, 1, -1, alo, ahi, x.randint(alo, ahi)])
            if x.randrange(3) == 0:
                v = x.randint(max(alo, tlo), min(ahi, thi))
            return min(ahi, max(alo, v))
        if kind == "f64to32":
            m = 3.4028234663852886e38
            ulp = 2.0**104
            vs = [m, -m, m + ulp / 4, m + ulp / 2, -(m + ulp), 1e39, -1e39, sys.float_info.max, 1.401298464324817e-45]
            vs += [7e-46, 1e-50, 0.1, 1 / 3, 16777217.0, math.inf, -math.inf, math.nan, -0.0]
            if x.randrange(3) == 0:
                return (x.random() - 0.5) * 10 ** x.randrange(45)
            return x.choice(vs)
        p, sc = c.spec[1], c.spec[2]
        exact = f"{base:f}"
        frac = lambda t: t + ("" if "." in t else ".") + x.choice(["5", "4", "49", "50", "51", "9", "0001", "99999"])  # noqa: E731
        k = x.randrange(12)
        if k in (0, 1):
            return exact
        if k in (2, 3, 11):
            return frac(exact)
        if k == 4:  # the largest value, then a tie: too large after rounding up
            top = f"{DEC.scaleb(D(10**p - 1), -sc):f}"
            return frac(x.choice(["", "-"]) + top)
        if k == 5:
            return x.choice(["", "-"]) + "1" + "0" * (p - sc)
        if k == 6:
            return x.choice(["abc", "", "-", ".", "1,5", "NaN", "Infinity", "0x10", "1e", "1_000", "--1", "1.2.3"])
        if k == 7:
            return x.choice(["+", " ", "\t", " +"]) + exact + x.choice(["", " ", "\n"])
        if k == 8:
            t = base.as_tuple()
            digits = ("-" if t.sign else "") + ("".join(map(str, t.digits)) or "0")
            return f"{digits}{x.choice('eE')}{t.exponent}"
        if k == 9:
            return x.choice([".5", "5.", "-.5", "0.005", "-0.004", "-0", "-0.00", "1e1", "000123", "0.0"])
        return f"{base:f}e{x.randrange(5) - 2}"


INT_RANGE = {"TINYINT": (-(2**7), 2**7 - 1), "SMALLINT": (-(2**15), 2**15 - 1), "INT": (-(2**31), 2**31 - 1)}
INT_RANGE["BIGINT"] = INT64


def other_case(name: str, how: int) -> str:
    """name in another case (0: upper, 1: the first letter flipped, 2: every letter flipped)."""
    out = name.upper() if how == 0 else name.swapcase() if how == 2 else ""
    if how == 1:
        i = next((i for i, ch in enumerate(name) if ch.isalpha()), None)
        out = name if i is None else name[:i] + name[i].swapcase() + name[i + 1 :]
    if out == name:
        out = name.swapcase()
    return "" if out == name else out


def skewed(c: Col) -> bool:
    """A STRUCT in c is given otherwise than the table has it."""
    parts = [p for p in (c.elem, c.val, *c.fields) if p is not None]
    order = c.perm if c.perm is not None else list(range(len(c.fields)))
    return (
        order != list(range(len(c.fields)))
        or any(f.bname or f.null_type for f in c.fields)
        or any(skewed(p) for p in parts)
    )


DEC_TEXT = re.compile(r"[ \t\r\n]*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?[ \t\r\n]*")
DEC_EXACT = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_UP)


def decimal_from_text(text: str, p: int, sc: int) -> D:
    """text as DECIMAL(p, sc) stores it (Spark's string cast: spaces around, a sign, digits with an optional point,
    an optional exponent; rounded half away from zero to sc places); Bad when it is not a number or has more than
    p - sc integer digits after rounding."""
    m = DEC_TEXT.fullmatch(text)
    if m is None or not (m[2] or m[3]):
        raise Bad
    v = D(f"{m[1]}{m[2] or '0'}.{m[3] or '0'}e{m[4] or '0'}")
    q = DEC_EXACT.quantize(v, D(1).scaleb(-sc))
    if q.copy_abs() >= DEC_EXACT.power(10, p - sc):  # (abs() would round to 28 digits)
        raise Bad
    return q


NO_NULL_FORMS = {"np:int8", "np:int16", "np:int32", "np:int64", "np:uint8", "np:uint16", "np:uint32", "np:uint64"}
NO_NULL_FORMS |= {"np:bool"}


def inferable(c: Col | None) -> bool:
    """pyarrow infers this leaf's table type exactly from Python objects (int -> int64, str -> string, ...)."""
    if c is None or c.uc == "STRUCT":
        return False
    if c.spec == (
        "int",
        64,
        False,
    ):  # Python ints over int64 inside lists: refused (OverflowError), see the regressions
        return False
    return (c.uc, c.spec[0]) in {
        ("BIGINT", "int"),
        ("DOUBLE", "f64"),
        ("STRING", "str"),
        ("BOOLEAN", "bool"),
        ("DATE", "date_obj"),
    } or (c.uc == "BINARY" and c.spec == ("bytes", None))


# ---------------------------------------------------------------- pandas and polars forms


def pandas_forms(c: Col, tr: str) -> list[tuple[tuple[Any, ...], str]]:
    uc = c.uc
    ints = {"TINYINT": [8], "SMALLINT": [8, 16], "INT": [8, 16, 32], "BIGINT": [64]}
    if uc in ints:
        out: list[tuple[tuple[Any, ...], str]] = []
        for b in ints[uc]:
            out += [(("int", b, True), f"np:int{b}"), (("int", b, True), f"pd:Int{b}")]
        if uc in ("SMALLINT", "INT"):
            out += [(("int", 8, False), "np:uint8"), (("int", 8, False), "pd:UInt8")]
        if uc == "INT":
            out += [(("int", 16, False), "np:uint16"), (("int", 16, False), "pd:UInt16")]
        if uc == "BIGINT":
            out += [
                (("int", 64, True), "pd:object"),
                (("int", 32, False), "np:uint32"),
                (("int", 64, False), "np:uint64"),
            ]
            out += [(("int", 64, False), "pd:UInt64"), (("int", 64, True), "pd:categorical")]
            out += [(("duration", u), f"np:timedelta64[{u}]") for u in ("s", "ms", "us", "ns")]
        return out
    if uc == "FLOAT":
        return [(("f32",), "np:float32"), (("f16",), "np:float16"), (("f32",), "pd:Float32")]
    if uc == "DOUBLE":
        return [
            (("f64",), "np:float64"),
            (("f64",), "pd:Float64"),
            (("f64",), "pd:object"),
            (("f64",), "pd:categorical"),
        ]
    if uc == "BOOLEAN":
        return [
            (("bool",), "np:bool"),
            (("bool",), "pd:boolean"),
            (("bool",), "pd:object"),
            (("bool",), "pd:categorical"),
        ]
    if uc in ("STRING", "VARIANT"):
        spec = ("str",) if uc == "STRING" else ("json",)
        forms = ["pd:object", "pd:string[python]", "pd:string[pyarrow]", "pd:str", "pd:categorical"]
        return [(spec, f) for f in forms] + [(spec, "pd:arrowdtype")]
    if uc == "BINARY":
        return [(("bytes", None), "pd:object"), (("bytes", None), "pd:categorical"), (("bytes", None), "pd:arrowdtype")]
    if uc == "DATE":
        return [(("date_obj",), "pd:object"), (("date_obj",), "pd:categorical"), (("days",), "pd:arrowdtype")]
    if uc in ("TIMESTAMP", "TIMESTAMP_NTZ"):
        out = [(("ts", u), f"np:datetime64[{u}]") for u in ("s", "ms", "us", "ns")]
        out += [(("dt_obj", "naive"), "pd:object"), (("ts", "us"), "pd:arrowdtype")]
        if uc == "TIMESTAMP":  # a zone other than UTC cannot go to TIMESTAMP_NTZ (both transports)
            out += [(("ts", u), f"pd:datetime64[{u},tz]") for u in ("s", "ms", "us", "ns")]
            out += [(("dt_obj", "aware"), "pd:object")]
        return out
    if uc == "DECIMAL":
        return [(("dec", c.precision, c.scale), "pd:object"), (("dec", c.precision, c.scale), "pd:arrowdtype")]
    raise AssertionError(uc)


def polars_forms(c: Col, tr: str) -> list[tuple[tuple[Any, ...], str]]:
    uc = c.uc
    ints = {"TINYINT": [8], "SMALLINT": [8, 16], "INT": [8, 16, 32], "BIGINT": [64]}
    if uc in ints:
        out: list[tuple[tuple[Any, ...], str]] = [(("int", b, True), f"pl:Int{b}") for b in ints[uc]]
        if uc in ("SMALLINT", "INT"):
            out.append((("int", 8, False), "pl:UInt8"))
        if uc == "INT":
            out.append((("int", 16, False), "pl:UInt16"))
        if uc == "BIGINT":
            out += [(("int", 32, False), "pl:UInt32"), (("int", 64, False), "pl:UInt64"), (("time", "ns"), "pl:Time")]
            out += [(("duration", u), f"pl:Duration[{u}]") for u in ("ms", "us", "ns")]
        return out
    if uc == "FLOAT":
        return [(("f32",), "pl:Float32")] + ([(("f16",), "pl:Float16")] if hasattr(pl, "Float16") else [])
    if uc == "DOUBLE":
        return [(("f64",), "pl:Float64")] + ([(("f32",), "pl:Float32")] if tr == "arrow_flight" else [])
    if uc == "BOOLEAN":
        return [(("bool",), "pl:Boolean")]
    if uc == "STRING":
        return [(("str",), "pl:String"), (("str",), "pl:Categorical"), (("str",), "pl:Enum")]
    if uc == "VARIANT":
        return [(("json",), "pl:String")]
    if uc == "BINARY":
        return [(("bytes", None), "pl:Binary")]
    if uc == "DATE":
        return [(("date_obj",), "pl:Date")]
    if uc in ("TIMESTAMP", "TIMESTAMP_NTZ"):
        out = [(("ts", u), f"pl:Datetime[{u}]") for u in ("ms", "us", "ns")]
        if uc == "TIMESTAMP":  # a zone other than UTC cannot go to TIMESTAMP_NTZ (both transports)
            out += [(("ts", u), f"pl:Datetime[{u},tz]") for u in ("ms", "us", "ns")]
        return out
    if uc == "DECIMAL":
        return [(("dec", c.precision, c.scale), "pl:Decimal")]
    raise AssertionError(uc)


def polars_type(t: pa.DataType) -> Any:
    """The polars dtype holding values of Arrow type t inside a List or Struct, or None (not generated)."""
    simple = {
        pa.int8(): pl.Int8,
        pa.int16(): pl.Int16,
        pa.int32(): pl.Int32,
        pa.int64(): pl.Int64,
        pa.uint8(): pl.UInt8,
        pa.uint16(): pl.UInt16,
        pa.uint32(): pl.UInt32,
        pa.uint64(): pl.UInt64,
        pa.float32(): pl.Float32,
        pa.float64(): pl.Float64,
        pa.bool_(): pl.Boolean,
        pa.string(): pl.String,
        pa.binary(): pl.Binary,
    }
    if t in simple:
        return simple[t]
    if pa.types.is_decimal128(t):
        return pl.Decimal(t.precision, t.scale)
    if t == pa.date32():
        return pl.Date
    return None


# ---------------------------------------------------------------- building the input


def fill(values: list[Any], null: Any) -> list[Any]:
    return [null if v is None else v for v in values]


def arrow_type(c: Col) -> pa.DataType:
    """The Arrow type of a nested column's values (pyarrow kinds, pd.ArrowDtype, polars via pl.from_arrow)."""
    if c.uc == "ARRAY":
        assert c.elem is not None
        return pa.list_(pa.field("element", arrow_type(c.elem), nullable=True))
    if c.uc == "MAP":
        assert c.key is not None and c.val is not None
        return pa.map_(arrow_type(c.key), arrow_type(c.val))
    if c.uc == "STRUCT":  # the input's fields, names and order (Gen.skew)
        return pa.struct(
            [pa.field(f.batch_name, pa.null() if f.null_type else arrow_type(f)) for f in c.batch_fields()]
        )
    t: pa.DataType = c.arrow
    return t


def arrow_values(c: Col, values: list[Any]) -> list[Any]:
    """values as pyarrow builds them from Python objects: dates from day counts, decimals, ... (unchanged
    mostly: pa.array takes ints for timestamps, durations, times and date64)."""
    s = c.spec[0] if c.spec else ""
    if c.uc == "ARRAY":
        assert c.elem is not None
        return [None if v is None else arrow_values(c.elem, v) for v in values]
    if c.uc == "MAP":
        assert c.key is not None and c.val is not None
        return [
            None
            if v is None
            else list(zip(arrow_values(c.key, [k for k, _ in v]), arrow_values(c.val, [x for _, x in v]), strict=True))
            for v in values
        ]
    if c.uc == "STRUCT":  # keyed by the input's names
        fs = c.batch_fields()
        cols = {f.name: arrow_values(f, [None if v is None else v[f.name] for v in values]) for f in fs}
        return [None if v is None else {f.batch_name: cols[f.name][i] for f in fs} for i, v in enumerate(values)]
    if s == "days":
        return [
            None if v is None else EPOCH_DAY + dt.timedelta(days=v) if -719162 <= v <= 2932896 else v for v in values
        ]
    return values


def arrow_array(c: Col, values: list[Any]) -> pa.Array:
    t = arrow_type(c)
    if c.spec[:1] == ("f16",):
        arr = np.array(fill(values, 0.0), dtype=np.float16)
        return pa.array(arr, type=pa.float16(), mask=np.array([v is None for v in values], dtype=bool))
    if c.spec[:1] == ("days",):
        return pa.array(values, type=pa.int32()).cast(pa.date32())  # day counts beyond datetime.date's range
    if pa.types.is_dictionary(t):
        encoded = pa.array(values, type=t.value_type).dictionary_encode()
        if len(encoded.dictionary) > 2 ** (t.index_type.bit_width - 1) - 1:  # more values than the index type holds
            return encoded
        return encoded.cast(t)
    if c.spec[:1] in (("ts",), ("duration",), ("date64",), ("time",)):
        storage = pa.int32() if t in (pa.time32("s"), pa.time32("ms")) else pa.int64()
        return pa.array(values, type=storage).view(t)
    return pa.array(arrow_values(c, values), type=t)


def pandas_series(c: Col, values: list[Any], index: pd.Index) -> pd.Series:
    f = c.form
    if f.startswith("np:datetime64") or f.startswith("np:timedelta64"):
        arr = np.array([np.iinfo(np.int64).min if v is None else v for v in values], dtype=np.int64)
        return pd.Series(arr.view(f[3:]), index=index)
    if f.startswith("pd:datetime64"):
        unit = f[len("pd:datetime64[") :].split(",")[0]
        arr = np.array([np.iinfo(np.int64).min if v is None else v for v in values], dtype=np.int64)
        zone = [dt.timezone(dt.timedelta(hours=5, minutes=30)), *ZONES][len(values) % 5]
        return pd.Series(arr.view(f"datetime64[{unit}]"), index=index).dt.tz_localize("UTC").dt.tz_convert(zone)
    if f.startswith("np:float"):
        return pd.Series(np.array(fill(values, np.nan), dtype=f[3:]), index=index)
    if f.startswith("np:"):
        return pd.Series(np.array(values, dtype=f[3:]), index=index)
    if f in ("pd:Int8", "pd:Int16", "pd:Int32", "pd:Int64", "pd:UInt8", "pd:UInt16", "pd:UInt64", "pd:Float32"):
        return pd.Series(pd.array(fill(values, pd.NA), dtype=f[3:]), index=index)
    if f in ("pd:Float64", "pd:boolean"):
        return pd.Series(pd.array(fill(values, pd.NA), dtype=f[3:]), index=index)
    if f == "pd:object":
        # pandas' missing values in an object column: None, NaN, pd.NA, and pd.NaT among datetimes
        markers = [None, np.nan, pd.NA] + ([pd.NaT] if c.spec[:1] == ("dt_obj",) else [])
        if c.uc in ("ARRAY", "MAP", "STRUCT"):
            markers = [None]
        if c.uc == "STRUCT":  # dicts with the input's keys, in an order that turns from row to row
            fs = c.batch_fields()
            values = [
                None if v is None else {f.batch_name: v[f.name] for f in fs[i % len(fs) :] + fs[: i % len(fs)]}
                for i, v in enumerate(values)
            ]
        return pd.Series(
            [v if v is not None else markers[i % len(markers)] for i, v in enumerate(values)], index=index, dtype=object
        )
    if f in ("pd:string[python]", "pd:string[pyarrow]", "pd:str"):
        return pd.Series(values, index=index, dtype=f[3:])
    if f == "pd:categorical":
        return pd.Series(pd.Categorical(values), index=index)
    if f == "pd:arrowdtype":
        if c.uc in ("ARRAY", "MAP", "STRUCT"):
            arr = pa.array(arrow_values(c, values), type=arrow_type(c))
        elif c.spec[0] == "days":
            arr = pa.array(values, type=pa.int32()).cast(pa.date32())
        elif c.spec[0] == "ts":
            arr = pa.array(values, type=pa.int64()).view(pa.timestamp("us"))
        elif c.spec[0] == "dec":
            arr = pa.array(values, type=pa.decimal128(c.precision, c.scale))
        elif c.spec[0] == "str":
            arr = pa.array(values, type=pa.large_string())
        elif c.spec[0] == "json":
            arr = pa.array(values, type=pa.string())
        else:
            arr = pa.array(values, type=pa.binary())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index)
    raise AssertionError(f)


def polars_series(c: Col, values: list[Any]) -> pl.Series:
    return polars_series_of(c, values).alias(c.batch_name)


def polars_series_of(c: Col, values: list[Any]) -> pl.Series:
    f = c.form
    if f.startswith("pl:Datetime") or f.startswith("pl:Duration"):
        unit = f.split("[")[1].rstrip("]").split(",")[0]
        s = pl.Series(c.name, values, dtype=pl.Int64)
        if f.startswith("pl:Duration"):
            return s.cast(pl.Duration(unit))  # type: ignore[arg-type,no-any-return]
        s = s.cast(pl.Datetime(unit))  # type: ignore[arg-type]
        if f.endswith(",tz]"):
            s = s.dt.replace_time_zone("UTC").dt.convert_time_zone(ZONES[len(values) % len(ZONES)])
        return s  # type: ignore[no-any-return]
    if f == "pl:Time":
        return pl.Series(c.name, values, dtype=pl.Int64).cast(pl.Time)  # type: ignore[no-any-return]
    if f == "pl:Enum":
        return pl.Series(c.name, values, dtype=pl.Enum(sorted({v for v in values if v is not None} | {"spare"})))
    if f == "pl:Decimal":
        return pl.Series(c.name, values, dtype=pl.Decimal(c.precision, c.scale))
    if f in ("pl:nested", "pl:array"):
        arr = pa.array(arrow_values(c, values), type=arrow_type(c))
        nested = pl.from_arrow(arr)
        assert isinstance(nested, pl.Series)
        s = nested
        if f == "pl:array":  # build() padded the lists to one width
            width = max([len(v) for v in values if v is not None] or [0])
            s = s.cast(pl.Array(s.dtype.inner, width))  # type: ignore[attr-defined]
        return s.alias(c.name)
    dtype = getattr(pl, f[3:])
    return pl.Series(c.name, values, dtype=dtype)


# ---------------------------------------------------------------- what must be stored


def expect(c: Col, v: Any, path: str, probs: list[str]) -> tuple[Any, bool]:
    """What value v of column c must be stored as (as as_stored(server.table()) shows it); False when the
    table stores a null (for a nullable ARRAY or MAP: an empty list). The path of each value the table cannot
    take is appended to probs."""
    if is_null(c, v):
        if c.not_null:
            probs.append(path)
        return ([] if c.uc in ("ARRAY", "MAP") else None), False
    if c.uc == "ARRAY":
        assert c.elem is not None
        out = []
        for i, e in enumerate(v):
            if is_null(c.elem, e):
                probs.append(f"{path}[{i}]")  # a repeated field cannot hold a null
                continue
            out.append(expect(c.elem, e, f"{path}[{i}]", probs)[0])
        return out, True
    if c.uc == "MAP":
        assert c.key is not None and c.val is not None
        entries = []
        for i, (k, x) in enumerate(v):
            kv = expect(c.key, k, f"{path}[{i}].key", probs)[0]
            if is_null(c.val, x):
                probs.append(f"{path}[{i}].value")
                continue
            entries.append((kv, expect(c.val, x, f"{path}[{i}].value", probs)[0]))
        return entries, True
    if c.uc == "STRUCT":
        return {f.name: expect(f, v[f.name], f"{path}.{f.name}", probs)[0] for f in c.fields}, True
    try:
        return expect_leaf(c, v), True
    except Bad:
        probs.append(path)
        return None, False


def names_column(err: BaseException | None, names: list[str]) -> bool:
    """err names one of the columns (its ``column``, or a quoted column path in its message: "c1", "c1[]",
    "c1.f0")."""
    if not isinstance(err, ZerobusError):
        return False
    roots = {p.split("[")[0].split(".")[0] for p in [err.column or "", *err.columns, *str(err).split('"')[1::2]]}
    return bool({r.lower() for r in roots} & {n.lower() for n in names})  # as the input or the table spells it


def uses(c: Col, spec: str) -> bool:
    """c or a part of it holds values of spec (its first word)."""
    parts = [p for p in (c.elem, c.key, c.val, *c.fields) if p is not None]
    return c.spec[:1] == (spec,) or any(uses(p, spec) for p in parts)


def lacks_type(c: Col, values: list[Any]) -> bool:
    """pyarrow infers no type (null) for a pandas object or categorical column, or a part of one, without a value."""
    if c.form not in ("pd:object", "pd:categorical"):
        return False
    present = [v for v in values if not is_null(c, v)]
    if c.uc == "ARRAY":
        assert c.elem is not None
        return lacks_type(c.elem, [e for v in present for e in v])
    if c.uc == "STRUCT":
        # (a field left out, or given as nulls of no type, takes the table's type: not a field of no type)
        fs = [f for f in c.fields if not f.omit and not f.null_type]
        return not present or any(lacks_type(f, [v[f.name] for v in present]) for f in fs)
    return not present


def is_null(c: Col, v: Any) -> bool:
    """v is a missing value in c's form: None, and NaN where pandas reads it as missing (a numpy float column,
    an object column of floats, a Decimal('NaN'))."""
    if v is None:
        return True
    # pd.array([nan], dtype="Float64") is <NA> too
    nan_is_missing = (
        "np:float16",
        "np:float32",
        "np:float64",
        "pd:object",
        "pd:Float32",
        "pd:Float64",
        "pd:categorical",
    )
    return isinstance(v, float) and math.isnan(v) and c.form in nan_is_missing


def expect_leaf(c: Col, v: Any) -> Any:
    s = c.spec
    kind = s[0]
    if kind in ("int", "narrow"):
        lo, hi = INT_RANGE[c.uc]  # the table's type holds it, or the row fails
        if not lo <= v <= hi:
            raise Bad
        return v
    if kind == "f64to32":
        if not math.isfinite(v):
            return v
        try:  # rounded to the nearest float32; OverflowError: a finite value beyond FLOAT once rounded
            return struct.unpack("<f", struct.pack("<f", v))[0]
        except OverflowError:
            raise Bad from None
    if kind == "dectext":
        return decimal_from_text(v, s[1], s[2])
    if kind == "floatint":  # a whole number in the table's range (-0.0 as 0), else the row fails
        if not math.isfinite(v) or v != math.floor(v) or not INT_RANGE[c.uc][0] <= int(v) <= INT_RANGE[c.uc][1]:
            raise Bad
        return int(v)
    if kind == "intfloat":  # exactly, never rounded, else the row fails
        f = float(v)
        if int(f) != v:
            raise Bad
        if c.uc == "FLOAT":
            try:
                f32 = struct.unpack("<f", struct.pack("<f", f))[0]
            except OverflowError:
                raise Bad from None
            if f32 != f:
                raise Bad
        return f
    if kind in ("duration", "ts", "time"):
        per = US_PER[s[1]]
        us = v // 1000 if per is None else v * per  # finer units round down
        if not INT64[0] <= us <= INT64[1]:
            raise Bad
        return us
    if kind == "f16":
        return float(np.float16(v))
    if kind == "f32":
        return (
            struct.unpack("<f", struct.pack("<f", v))[0]
            if math.isfinite(v) and abs(v) < 3.5e38
            else float(np.float32(v))
        )
    if kind in ("f64", "bool", "str", "bytes"):
        return v
    if kind == "date_obj":
        return (v - EPOCH_DAY).days
    if kind == "days":
        return v
    if kind == "date64":
        d = v // 86_400_000
        if not -(2**31) <= d <= 2**31 - 1:
            raise Bad
        return d
    if kind == "dt_obj":
        base = EPOCH if v.tzinfo is not None else EPOCH_NAIVE
        return (v - base) // dt.timedelta(microseconds=1)
    if kind == "dec":
        return v
    if kind == "json":
        if not one_json_document(v):
            raise Bad
        return JsonText(v)
    raise AssertionError(s)


class JsonText(str):
    """A VARIANT's JSON text: compared as JSON (the Flight path stores the text its Variant encoding reads back)."""


def one_json_document(s: str) -> bool:
    def no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        json.loads(s, object_pairs_hook=no_dups)
    except ValueError:
        return False
    return True


def same(want: Any, got: Any) -> bool:
    if isinstance(want, JsonText):
        return isinstance(got, str) and json_value(want) == json_value(got)
    if isinstance(want, D):
        return isinstance(got, str) and D(got) == want
    if isinstance(want, float):
        return isinstance(got, float) and (
            (math.isnan(want) and math.isnan(got)) or (want == got and math.copysign(1, want) == math.copysign(1, got))
        )
    if isinstance(want, dict):
        return isinstance(got, dict) and want.keys() == got.keys() and all(same(want[k], got[k]) for k in want)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        if want and isinstance(want[0], tuple):  # a MAP: entries in any order
            return Counter(map(repr, want)) == Counter(map(repr, got)) or all(
                any(same(w, g) for g in got) for w in want
            )
        return all(same(w, g) for w, g in zip(want, got, strict=True))
    if isinstance(want, tuple):
        return (
            isinstance(got, tuple) and len(want) == len(got) and all(same(w, g) for w, g in zip(want, got, strict=True))
        )
    return type(want) is type(got) and bool(want == got)


def json_value(s: str) -> Any:
    return json.loads(s, parse_float=D, parse_int=D)


# ---------------------------------------------------------------- one seed


class StreamOnly:
    """Another library's object: only ``__arrow_c_stream__``."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


class ArrayOnly:
    """Another library's object: only ``__arrow_c_array__`` (a struct array is a batch)."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self._batch = batch

    def __arrow_c_array__(self, requested_schema: object = None) -> object:
        return self._batch.__arrow_c_array__(requested_schema)


@dataclass
class Sent:
    data: Any
    rows: list[list[Any]]  # the rows sent (values in table column order), after any in-place adjustment
    refused: list[str] = field(default_factory=list)  # columns the input cannot send: the error must name one


def build(g: Gen, cols: list[Col], order: list[int], rows: list[list[Any]], pre: int, n: int) -> Sent:
    """The input of rows[pre:pre+n] in g.kind's form (columns order[k] of the table, in that order)."""
    kind = g.kind
    sent = rows[pre : pre + n]
    if kind == "pandas":
        index: pd.Index = pd.RangeIndex(len(rows))
        if g.pct(30):
            index = pd.Index([g.r.randrange(-(10**9), 10**9) for _ in rows])  # unnamed: not sent
        data = {cols[c].batch_name: pandas_series(cols[c], [r[c] for r in rows], index) for c in order}
        for c in order:  # a categorical holds one value per category: 0.0 and -0.0 are one (the first seen)
            if cols[c].form == "pd:categorical":
                held = data[cols[c].batch_name].astype(object).tolist()
                for r, v in zip(rows, held, strict=True):
                    r[c] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        df = pd.DataFrame(data, index=index)
        if g.tr == "arrow_flight" and 0 in order and g.pct(20):
            df = df.set_index("rid")  # a named index is a column
        return Sent(df.iloc[pre : pre + n], sent)
    if kind == "polars":
        refused = []
        for c in order:  # a pl.Array column holds lists of one width: pad them (the rows sent are the padded ones)
            if cols[c].form == "pl:array":
                width = max([len(r[c]) for r in rows if r[c] is not None] or [0])
                if width == 0:  # a fixed-size list of size 0, which arrow-go cannot import: refused naming it
                    refused.append(cols[c].name)
                for r in rows:
                    if r[c] is not None:
                        r[c] = (r[c] + [r[c][0] if r[c] else None] * width)[:width]
        series = [polars_series(cols[c], [r[c] for r in rows]) for c in order]
        for k, c in enumerate(order):  # polars rounds a Python float to Float16 itself: the value held is polars'
            if cols[c].form == "pl:Float16":
                for r, v in zip(rows, series[k].to_list(), strict=True):
                    r[c] = v
        df = pl.DataFrame(series)
        if g.pct(30) and len(rows) > 1:  # several chunks (pl.concat without rechunk), as appends leave a frame
            cut = 1 + g.r.randrange(len(rows) - 1)
            df = pl.concat([df[:cut], df[cut:]], rechunk=False)
        return Sent(df[pre : pre + n], rows[pre : pre + n], refused)
    arrays = [arrow_array(cols[c], [r[c] for r in rows]) for c in order]
    names = [cols[c].batch_name for c in order]
    batch = pa.RecordBatch.from_arrays(arrays, names=names).slice(pre, n)
    table = pa.Table.from_batches(split(g, batch), schema=batch.schema)
    if g.pct(30):  # each column chunked at its own places (the table's stream cuts batches where any column does)
        chunked = [
            pa.chunked_array([p.column(k) for p in split(g, batch)], type=f.type) for k, f in enumerate(batch.schema)
        ]
        table = pa.Table.from_arrays(chunked, schema=batch.schema)
    if kind == "table":
        return Sent(table, sent)
    if kind == "batch":
        return Sent(batch, sent)
    if kind in ("parquet", "dataset"):  # a pyarrow.parquet.ParquetFile / pyarrow.dataset.Dataset of the rows
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        path = os.path.join(g.tmp, f"{g.name('f')}.parquet")
        if any(uses(cols[c], "date64") for c in order):  # Parquet keeps a date64 as days: its time of day is dropped
            return Sent(table, sent)
        try:
            pq.write_table(table, path, row_group_size=g.r.choice([7, 64, 1 << 20]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a value Parquet cannot hold (a timestamp over ms)
            return Sent(table, sent)
        return Sent(pq.ParquetFile(path) if kind == "parquet" else ds.dataset(path), sent)
    if kind == "ipc":  # a reader of an Arrow IPC stream: buffers of its own, no validity bitmap without nulls
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            for part in split(g, batch):
                writer.write_batch(part)
        return Sent(pa.ipc.open_stream(sink.getvalue()), sent)
    if kind == "reader":
        return Sent(pa.RecordBatchReader.from_batches(batch.schema, split(g, batch)), sent)
    if kind == "c_stream":
        return Sent(StreamOnly(table), sent)
    return Sent(ArrayOnly(batch), sent)


def split(g: Gen, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
    cuts = sorted(g.r.randrange(batch.num_rows + 1) for _ in range(g.r.randrange(4)))
    bounds = [0, *cuts, batch.num_rows]
    return [batch.slice(a, b - a) for a, b in itertools.pairwise(bounds) if b > a or g.pct(20)]


def run_seed(server: LocalServer, seed: int, tr: str) -> list[str]:
    """Sends a few random inputs of one random table over tr; returns the problems found."""
    g = Gen(seed, tr)
    cols = g.table()
    g.skew(cols)
    table = f"main.pyrt.t{seed % 10**8}_{tr}_{uuid.uuid4().hex[:6]}"
    desc = "\n  ".join(c.describe() for c in cols)
    server.create_table(table, ", ".join(f"{c.name} {c.ddl()}{' NOT NULL' if c.not_null else ''}" for c in cols))
    if os.environ.get("ZEROBUS_PY_ROUNDTRIP_SEED"):  # a replay: the table before a crash can hide it
        print(f"seed {seed} over {tr}, kind {g.kind}:\n  {desc}", file=sys.stderr, flush=True)
    problems: list[str] = []
    order = list(range(len(cols)))
    if tr == "arrow_flight" and g.pct(25):  # Flight matches columns by name
        g.r.shuffle(order)
    misordered = False  # (protobuf matches columns by name too since the table's columns are read)
    if tr == "protobuf" and g.pct(4) and len(cols) > 1:
        g.r.shuffle(order)
    if tr == "arrow_flight" and g.pct(15) and len(cols) > 1:
        k = 1 + g.r.randrange(len(cols) - 1)
        if not cols[k].not_null:
            cols[k].omit = True  # left out: stored as nulls
    if order == sorted(order) and g.xpct(25):  # (these draws from g.x: the seed's values stay as they were)
        g.x.shuffle(order)
    STATS["skew: tables with columns in another order"] += order != sorted(order)
    order = [k for k in order if not cols[k].omit]
    if order != list(range(len(cols))):
        desc += f"\n  (the inputs hold columns {order} of these, in that order)"
    settings: dict[str, Any] = {"transport": tr, "retry_base_delay_ms": 1, "retry_max_delay_ms": 5}
    if g.pct(25):
        settings["max_inflight_bytes"] = settings["max_message_bytes"] = 64 << 10
    wants: dict[int, tuple[dict[str, Any], list[str]]] = {}
    durable: set[int] = set()
    rid = 0
    with ZerobusWrapper(server.config(table, **settings)) as w, tempfile.TemporaryDirectory() as g.tmp:
        for bi in range(1 + g.r.randrange(3)):
            n = g.r.choice([0, 1, 2, 3, 5, 17, 64, 200]) if not g.pct(4) else 1000 + g.r.randrange(1000)
            pre, post = (g.r.randrange(5), g.r.randrange(5)) if g.pct(40) else (0, 0)
            rows = [[-1 - i] + [g.value(c) for c in cols[1:]] for i in range(pre + n + post)]
            for i in range(n):
                rows[pre + i][0] = rid + i
            untyped = [
                cols[c].name for c in order if n > 0 and lacks_type(cols[c], [r[c] for r in rows[pre : pre + n]])
            ]
            try:
                sent = build(g, cols, order, rows, pre, n)
            except ZerobusError as err:
                problems.append(f"batch {bi}: building the input raised {err!r}")
                continue
            for i, row in enumerate(sent.rows):
                probs: list[str] = []
                stored = {}
                for c, col in enumerate(cols):
                    value, _ = (
                        expect(col, row[c], col.name, probs)
                        if c in order
                        else (
                            [] if col.uc in ("ARRAY", "MAP") else None,
                            False,
                        )
                    )
                    stored[col.name] = value
                wants[rid + i] = (stored, probs)
            if os.environ.get("ZEROBUS_PY_ROUNDTRIP_SEED"):
                print(
                    f"  batch {bi}: rows {pre}..{pre + n} of {len(rows)}, columns {order}", file=sys.stderr, flush=True
                )
            STATS[f"inputs {g.kind}"] += 1
            try:
                res = w.send_batch(sent.data)
            except ZerobusError as err:
                # refused as a whole: only an input with a column of no type (pyarrow's null type, inferred from a
                # pandas object column without a value), naming that column
                if sent.refused and names_column(err, sent.refused):
                    STATS["inputs refused (a fixed-size list of size 0)"] += 1
                    rid += n
                    continue
                if untyped and names_column(err, untyped):
                    STATS["inputs refused (a column of no type)"] += 1
                    rid += n
                    continue
                if misordered and names_column(err, [c.name for c in cols]):
                    STATS["inputs refused (columns out of the table's order over protobuf)"] += 1
                    rid += n
                    continue
                whole = err.result
                if not (isinstance(err, ConversionError) and whole is not None and whole.failed_count == n > 0):
                    problems.append(f"batch {bi} ({n} rows, kind {g.kind}): raised {type(err).__name__}: {err}")
                    rid += n
                    continue
                res = whole  # every row failed: raised with the rows' failures as its result, checked below
            if misordered and n > 0 and not untyped:
                # every row fails: the rows that do not convert with their own ConversionError, the others with
                # the server's refusal of the stream, which names the columns out of order
                if res.successful_count or not names_column(res.failure, [c.name for c in cols]):
                    problems.append(f"batch {bi}: columns {order} out of the table's order sent over protobuf: {res}")
                rid += n
                continue
            if res.total_rows != n or res.successful_count + res.failed_count != n:
                problems.append(
                    f"batch {bi}: total {res.total_rows}, ok {res.successful_count}, "
                    f"failed {res.failed_count}; want {n} rows"
                )
            for i in res.get_successful_row_indices():
                if wants[rid + i][1]:
                    problems.append(
                        f"batch {bi} row {i} reported durable; "
                        f"it holds values the table cannot take at {wants[rid + i][1]}\n  row: {sent.rows[i]!r:.400}"
                    )
                durable.add(rid + i)
            STATS["rows failed"] += res.failed_count
            for i, row_err in res.failed_row_errors:
                probs = wants[rid + i][1]
                if not isinstance(row_err, ConversionError) or row_err.row != i:
                    problems.append(f"batch {bi} row {i}: {row_err!r}, want a ConversionError naming the row")
                elif not probs:
                    problems.append(f"batch {bi} row {i} failed, want durable: {row_err}\n  row: {sent.rows[i]!r}")
                elif (row_err.column or "").lower() not in [p.lower() for p in probs]:  # either spelling
                    problems.append(
                        f"batch {bi} row {i} failed naming column {row_err.column!r}, want one of {probs}: {row_err}"
                    )
            problems += check_extracted(g.kind, sent.data, res, rid, bi)
            rid += n
    seen: Counter[int] = Counter()
    stored_rows = as_stored(server.table(table)) if server.record_count(table) else []
    for got in stored_rows:
        r = got["rid"]
        seen[r] += 1
        if seen[r] > 1:
            problems.append(f"row {r} stored {seen[r]} times")
        elif r not in durable:
            problems.append(f"row {r} stored but not reported durable (problems {wants.get(r, ({}, []))[1]})")
        else:
            want = wants[r][0]
            STATS["rows stored and compared"] += 1
            STATS["fields compared"] += len(want)
            for name, value in want.items():
                if not same(value, got.get(name)):
                    problems.append(f"row {r} column {name}: stored {got.get(name)!r}, want {value!r}")
    problems += [f"row {r} reported durable, not stored" for r in sorted(durable) if not seen[r]]
    if problems:
        more = f"\n(and {len(problems) - 10} more)" if len(problems) > 10 else ""
        problems = [
            f"seed {seed} over {tr}, kind {g.kind} (replay: ZEROBUS_PY_ROUNDTRIP_SEED={seed} "
            f".venv/bin/pytest tests_py/test_random_inputs.py -v)\n  {desc}\n" + "\n".join(problems[:10]) + more
        ]
    return problems


def check_extracted(kind: str, data: Any, res: Any, rid: int, bi: int) -> list[str]:
    """extract_successful_batch / extract_failed_batch of the input sent give exactly the rows the result reports, as
    the same kind of object (the inputs that read again as the same rows); a stream read once is refused."""
    if kind in ("reader", "c_stream", "ipc"):
        if not res.failed_count:
            return []
        try:
            res.extract_failed_batch(data)
        except TypeError:
            return []
        return [f"batch {bi}: extract_failed_batch of a {kind} input did not raise TypeError"]
    out = []
    for what, got, indices in (
        ("successful", res.extract_successful_batch(data), res.get_successful_row_indices()),
        ("failed", res.extract_failed_batch(data), res.get_failed_row_indices()),
    ):
        want = [rid + i for i in indices]
        if got is None:
            rids: list[int] = []
        elif kind == "pandas":
            assert isinstance(got, pd.DataFrame), type(got)
            rids = list(got.index if "rid" not in got.columns else got["rid"])
        elif kind == "polars":
            assert isinstance(got, pl.DataFrame), type(got)
            rids = got["rid"].to_list()
        else:
            want_type = {"batch": pa.RecordBatch, "c_array": pa.RecordBatch}.get(kind, pa.Table)
            assert isinstance(got, want_type), type(got)
            rids = got.column("rid").to_pylist()
        if [int(r) for r in rids] != want:
            out.append(f"batch {bi}: extract_{what}_batch gave rows {rids[:20]}, want {want[:20]}")
    return out


def _seeds() -> list[int]:
    replay = os.environ.get("ZEROBUS_PY_ROUNDTRIP_SEED")
    return [int(replay)] if replay else SEEDS


@pytest.mark.parametrize("seed", _seeds())
def test_random_inputs_round_trip(server: LocalServer, seed: int) -> None:
    problems = [p for tr in TRANSPORTS for p in run_seed(server, seed, tr)]
    assert not problems, "\n\n".join(problems)


# The long run is collected only when `make py-roundtrip-long` asks for it, so that `make test` shows no skipped test.
if os.environ.get("ZEROBUS_PY_ROUNDTRIP_SECONDS"):

    def test_random_inputs_round_trip_long(server: LocalServer) -> None:
        """Random seeds for ZEROBUS_PY_ROUNDTRIP_SECONDS, each printed as it starts (a crash names its seed)."""
        seconds = float(os.environ["ZEROBUS_PY_ROUNDTRIP_SECONDS"])
        start = time.monotonic()
        base = random.SystemRandom().randrange(10**12)
        failed: list[str] = []
        count = 0
        while time.monotonic() - start < seconds and len(failed) < 5:
            seed = base + count
            print(f"py-roundtrip: seed {seed}", file=sys.stderr, flush=True)
            failed += [p for tr in TRANSPORTS for p in run_seed(server, seed, tr)]
            count += 1
        print(f"py-roundtrip: {count} seeds from {base} in {time.monotonic() - start:.0f} s, {len(failed)} failed")
        print("py-roundtrip: " + ", ".join(f"{k}: {v}" for k, v in sorted(STATS.items())))
        assert not failed, "\n\n".join(failed)
