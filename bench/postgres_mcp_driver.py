"""Runs Postgres MCP Pro's index advisor (its DTA classes) on a workload; prints JSON.

Executed by bench/optimizer.py with the interpreter of a throwaway venv holding `postgres-mcp`
(Python >= 3.12), never with the project's: postgres-mcp is not a dependency of the project.
Input on stdin: {"url": ..., "workload": [{"query", "calls", "avg_exec_time"}], "seconds": n}.
Output: {"indexes": [{"table", "columns", "size_bytes"}], "error": str | null}.
"""

import asyncio
import json
import sys


async def main() -> None:
    spec = json.load(sys.stdin)
    from postgres_mcp.index.dta_calc import DatabaseTuningAdvisor
    from postgres_mcp.sql import DbConnPool, SqlDriver

    pool = DbConnPool()
    await pool.pool_connect(spec["url"])
    driver = SqlDriver(conn=pool)
    dta = DatabaseTuningAdvisor(driver, max_runtime_seconds=int(spec["seconds"]))
    workload = [dict(q, queryid=f"bench-{i}") for i, q in enumerate(spec["workload"])]
    result = await dta.analyze_workload(workload=workload)
    indexes = [
        {
            "table": rec.table,
            "columns": list(rec.columns),
            "size_bytes": getattr(rec, "estimated_size_bytes", None),
        }
        for rec in (result.recommendations or [])
    ]
    print(json.dumps({"indexes": indexes, "error": result.error}))
    await pool.close()


asyncio.run(main())
