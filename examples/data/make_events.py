"""Write the sample data the README's commands send: events.parquet and events.csv (the same 24 rows).

    .venv/bin/python examples/data/make_events.py

The output is deterministic, so running it again changes nothing that git would see in the CSV.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROWS = 24


def events() -> pa.Table:
    """24 events of a small web shop: ids, event names, UTC timestamps, amounts (some null), countries, flags."""
    base = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    kinds = ["signup", "login", "view", "purchase", "logout", "view"]
    countries = ["NO", "PE", "IN", "UA", "BR", "JP", "DE", "KE"]
    return pa.table(
        {
            "id": pa.array(range(1, ROWS + 1), pa.int64()),
            "event": pa.array([kinds[i % len(kinds)] for i in range(ROWS)], pa.string()),
            "at": pa.array([base + dt.timedelta(seconds=37 * i) for i in range(ROWS)], pa.timestamp("us", tz="UTC")),
            "amount": pa.array(
                [round(4.5 + 7.25 * i, 2) if kinds[i % len(kinds)] == "purchase" else None for i in range(ROWS)],
                pa.float64(),
            ),
            "country": pa.array([countries[(i * 5) % len(countries)] for i in range(ROWS)], pa.string()),
            "returning": pa.array([i % 3 != 0 for i in range(ROWS)], pa.bool_()),
        }
    )


def main() -> None:
    """Write both files next to this script."""
    table = events()
    pq.write_table(table, HERE / "events.parquet", compression="zstd")
    pacsv.write_csv(table, HERE / "events.csv")
    print(f"wrote {ROWS} rows to {HERE / 'events.parquet'} and {HERE / 'events.csv'}")


if __name__ == "__main__":
    main()
