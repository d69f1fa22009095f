#!/usr/bin/env python3
"""Side by side with DuckDB: load the canonical CSVs and compute twelve KPIs per agent ×
month in SQL, timed on this machine (2 threads), then check Yardstick's values for the
same agent × month rows against DuckDB's (an independent SQL computation of SPEC §4).

    pip install duckdb
    python3 bench/duckdb_compare.py DATA_DIR [path/to/yardstick] [--runs N]
"""

import csv
import io
import statistics
import subprocess
import sys
import time

import duckdb

KPIS = """
WITH t AS (
  SELECT *,
    strftime(created_at AT TIME ZONE 'Asia/Shanghai', '%Y-%m') AS created_month,
    strftime(resolved_at AT TIME ZONE 'Asia/Shanghai', '%Y-%m') AS resolved_month
  FROM tickets WHERE agent_id IS NOT NULL
),
by_resolved AS (
  SELECT agent_id, resolved_month AS month,
    count(*) AS tickets_resolved,
    sum(CASE WHEN coalesce(contact_count, 1) = 1 AND coalesce(reopen_count, 0) = 0 THEN 1 ELSE 0 END) AS fcr_n,
    count(*) AS fcr_d,
    avg(epoch(resolved_at) - epoch(created_at)) / 3600 AS resolution_hours_mean,
    avg(handle_seconds) / 60 AS handle_minutes_mean,
    sum(CASE WHEN EXISTS (SELECT 1 FROM tickets o WHERE o.customer_id = t.customer_id AND o.ticket_id <> t.ticket_id
                           AND o.created_at > t.resolved_at AND o.created_at <= t.resolved_at + INTERVAL 7 DAY)
        THEN 1 ELSE 0 END) AS repeat_n
  FROM t WHERE resolved_at IS NOT NULL GROUP BY ALL
),
by_created AS (
  SELECT agent_id, created_month AS month,
    count(*) AS created_d,
    sum(CASE WHEN epoch(first_response_at) - epoch(created_at) <= 86400 THEN 1 ELSE 0 END) AS frt24_n,
    sum(CASE WHEN epoch(resolved_at) - epoch(created_at) <= 86400 THEN 1 ELSE 0 END) AS res24_n,
    sum(CASE WHEN fields_complete THEN 1 ELSE 0 END) AS complete_n,
    quantile_cont((epoch(first_response_at) - epoch(created_at)) / 60, 0.5) AS median_min,
    quantile_cont((epoch(first_response_at) - epoch(created_at)) / 60, 0.9) AS p90_min
  FROM t GROUP BY ALL
),
s AS (
  SELECT coalesce(s.agent_id, k.agent_id) AS agent_id,
    strftime(s.answered_at AT TIME ZONE 'Asia/Shanghai', '%Y-%m') AS month,
    s.csat, s.nps, k.cause
  FROM surveys s JOIN tickets k USING (ticket_id)
),
by_answered AS (
  SELECT agent_id, month,
    sum(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS csat_n,
    count(csat) AS csat_d,
    sum(CASE WHEN nps >= 9 THEN 1 WHEN nps <= 6 THEN -1 ELSE 0 END) AS nps_n,
    count(nps) AS nps_d
  FROM s WHERE agent_id IS NOT NULL AND (cause IS NULL OR cause <> 'product_defect') GROUP BY ALL
)
SELECT r.agent_id, r.month, r.tickets_resolved, r.fcr_n, r.fcr_d, r.resolution_hours_mean, r.handle_minutes_mean,
  r.repeat_n, c.created_d, c.frt24_n, c.res24_n, c.complete_n, c.median_min, c.p90_min,
  a.csat_n, a.csat_d, a.nps_n, a.nps_d
FROM by_resolved r
LEFT JOIN by_created c USING (agent_id, month)
LEFT JOIN by_answered a USING (agent_id, month)
"""


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    data = args[0]
    yardstick = args[1] if len(args) > 1 else "target/release/yardstick"
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    started = time.time()
    for table in ["tickets", "surveys"]:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{data}/{table}.csv', header = true)")
    load = time.time() - started
    times = []
    for _ in range(runs):
        started = time.time()
        rows = con.execute(KPIS).fetchall()
        times.append(time.time() - started)
    print(f"duckdb {duckdb.__version__}, 2 threads: load tickets+surveys {load:.2f} s; "
          f"12 KPIs per agent x month: median {statistics.median(times):.2f} s of {runs} runs; {len(rows)} agent-months")

    # Yardstick: the same KPIs for persons, every month.
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    metrics = ["tickets_resolved", "fcr_rate", "resolution_hours_mean", "handle_minutes_mean", "repeat_contact_7d_rate",
               "first_response_24h_rate", "resolved_24h_rate", "fields_complete_rate", "first_response_median_min",
               "first_response_p90_min", "csat_rate", "nps"]
    out = subprocess.run([yardstick, "metrics", "--data", data, "--subject", "person", "--metric", ",".join(metrics),
                          *sum((["--period", m] for m in months), [])], check=True, capture_output=True, text=True).stdout
    ys = {}
    for r in csv.DictReader(io.StringIO(out)):
        ys[(r["subject_id"], r["period"], r["metric"])] = r

    def close(value, expected):
        if expected is None:
            return value == ""
        return value != "" and abs(float(value) - expected) <= 1e-6 * max(1.0, abs(expected))

    checked = mismatches = 0
    for (agent, month, resolved, fcr_n, fcr_d, hours, handle, repeat_n, created_d, frt_n, res_n, complete_n,
         median, p90, csat_n, csat_d, nps_n, nps_d) in rows:
        if month not in months:
            continue
        expect = {
            "tickets_resolved": (resolved, None, None),
            "fcr_rate": (fcr_n / fcr_d, fcr_n, fcr_d),
            "resolution_hours_mean": (hours, None, None),
            "handle_minutes_mean": (handle, None, None),
            "repeat_contact_7d_rate": (repeat_n / fcr_d, repeat_n, fcr_d),
        }
        if created_d:
            expect["first_response_24h_rate"] = (frt_n / created_d, frt_n, created_d)
            expect["resolved_24h_rate"] = (res_n / created_d, res_n, created_d)
            expect["fields_complete_rate"] = (complete_n / created_d, complete_n, created_d)
            expect["first_response_median_min"] = (median, None, None)
            expect["first_response_p90_min"] = (p90, None, None)
        if csat_d:
            expect["csat_rate"] = (csat_n / csat_d, csat_n, csat_d)
        if nps_d:
            expect["nps"] = (100 * nps_n / nps_d, nps_n, nps_d)
        for metric, (value, num, den) in expect.items():
            got = ys.get((agent, month, metric))
            checked += 1
            ok = got is not None and close(got["value"], value) and \
                (num is None or (int(got["numerator"]) == num and int(got["denominator"]) == den))
            if not ok:
                mismatches += 1
                if mismatches <= 5:
                    print(f"MISMATCH {agent} {month} {metric}: yardstick {got} duckdb {value} {num}/{den}")
    print(f"checked {checked} agent-month values against DuckDB: {mismatches} mismatches")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
