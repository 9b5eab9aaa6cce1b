"""Run every benchmark: one line per figure (`name value unit target`) and the same as JSON."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

PARTS = ("engine", "growth", "reports", "simulation", "http", "postgresql")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--json", default="bench/results.json", help="where to write the figures")
    parser.add_argument("--rounds", type=int, default=5, help="cases run per side of the engine figure")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    parser.add_argument("--seconds", type=float, default=20, help="length of each HTTP load")
    parser.add_argument("--clients", type=int, default=4, help="concurrent staff in the HTTP load")
    parser.add_argument("--think", type=float, default=0.1,
                        help="seconds each client waits before a request (0: a closed loop at full speed)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    figures: list[dict] = []
    for part in parts:
        started = time.perf_counter()
        found = RUNNERS[part](args)
        for f in found:
            print(f"{f['name']} {f['value']:.4g} {f['unit']} {f['target']}", flush=True)
        print(f"  ({part}: {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        figures += found
    with open(args.json, "w") as out:
        json.dump(figures, out, indent=2, default=str)
    missed = [f["name"] for f in figures if f.get("met") is False]
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
    return 0


def _engine(args):
    from . import engine_bench
    return engine_bench.run(rounds=args.rounds)


def _growth(args):
    from . import growth_bench
    return growth_bench.run()


def _reports(args):
    from . import data, reports_bench
    return reports_bench.run(f"sqlite:///{data.sqlite_file()}", "sqlite")


def _simulation(args):
    from . import data, sim_bench
    return sim_bench.run(f"sqlite:///{data.sqlite_file()}")


def _http(args):
    from . import data, http_bench
    copy = data.working_copy(data.sqlite_file())
    try:
        return http_bench.run(f"sqlite:///{copy}", seconds=args.seconds, clients=args.clients, think=args.think)
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


def _postgresql(args):
    from . import data, http_bench, reports_bench
    server = data.postgres_url()
    if server is None:
        print("  postgresql: skipped; set ALUR_BENCH_POSTGRES_URL to a server where this role may create "
              "databases (e.g. postgresql+psycopg://alur:alur@127.0.0.1:5432/postgres)", file=sys.stderr)
        return []
    grown = data.postgres_database(server)
    figures = reports_bench.run(grown, "postgresql")
    work = data.postgres_copy(server, grown)
    try:
        figures += http_bench.run_throughput(work, seconds=args.seconds)
    finally:
        data.drop_postgres(server, work)
    return figures


RUNNERS = {"engine": _engine, "growth": _growth, "reports": _reports, "simulation": _simulation,
           "http": _http, "postgresql": _postgresql}


if __name__ == "__main__":
    sys.exit(main())
