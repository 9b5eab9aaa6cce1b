"""Run every benchmark: one line per figure (`name value unit target`) and the same as JSON."""
from __future__ import annotations

import argparse
import json
import sys

from . import engine_bench


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--json", default="bench/results.json", help="where to write the figures")
    parser.add_argument("--rounds", type=int, default=5, help="cases run per measurement side")
    args = parser.parse_args(argv)
    figures = engine_bench.run(rounds=args.rounds)
    for f in figures:
        print(f"{f['name']} {f['value']:.4g} {f['unit']} {f['target']}")
    with open(args.json, "w") as out:
        json.dump(figures, out, indent=2)
    missed = [f["name"] for f in figures if f.get("met") is False]
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
