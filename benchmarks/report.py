"""Rewrite the figures in BENCHMARKS.md from benchmarks/results/*.json, and check the targets.

BENCHMARKS.md is prose written by hand with generated tables between markers:
<!-- figures:NAME --> … <!-- /figures:NAME -->, one pair per benchmark and one for the machine.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from benchmarks.common import RESULTS
from benchmarks.report_limits import quotas_figures, quotas_missed, scaleout_figures, scaleout_missed
from benchmarks.report_transfers import datapath_figures, datapath_missed, multipart_figures, multipart_missed
from benchmarks.tables import table, yes

DOCUMENT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
FLAT_MEMORY = 1.5  # peak memory may grow this much when N doubles; proportional would be 2.0


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


# --- One renderer and one target check per benchmark ----------------------------------------


def machine_figures(r: dict) -> str:
    return table(
        ["CPU", "cores", "memory", "Python", "Django", "django-ninja", "boto3", "moto"],
        [
            [
                r["cpu"],
                r["cores"],
                f"{r['memory_gib']} GiB",
                r["python"],
                r["django"],
                r["django_ninja"],
                r["boto3"],
                r["moto"],
            ]
        ],
    )


PER_REQUEST_ROWS = {
    "floor": "floor: authenticated ninja endpoint writing one row",
    "presign": "presign `POST /api/uploads`",
    "url": "download URL `GET /api/uploads/{id}/url`",
    "complete": "complete `POST /api/uploads/{id}/complete`",
    "delete": "delete `DELETE /api/uploads/{id}`",
    "list_api": "list `GET /api/uploads` (25 rows)",
    "list_htmx": "list, HTMX partial (25 rows, thumbnails signed)",
}


def per_request_figures(r: dict) -> str:
    rows = [
        [
            label,
            r[name]["median_ms"],
            r[name]["p95_ms"],
            f"{r[name]['ratio_to_floor']}x",
            f"≤ {r[name]['target']}x" if "target" in r[name] else "",
            yes(r[name]["meets_target"]) if "target" in r[name] else "",
            (", ".join(r[name]["store_requests"]) or "none") if "store_requests" in r[name] else "",
            r[name].get("store_ms", ""),
            f"{r[name]['own_ratio_to_floor']}x" if "own_ratio_to_floor" in r[name] else "",
        ]
        for name, label in PER_REQUEST_ROWS.items()
    ]
    columns = ["operation", "median ms", "p95 ms", "ratio to floor", "target", "met", "store requests"]
    return (
        table([*columns, "ms in the store", "ratio without it"], rows)
        + f"\n\n{r['floor']['iterations']} timed iterations each after a warm-up, in 4 interleaved turns; "
        f"boto3 clients built in the whole run: {r['boto3_clients_built']}; "
        f"complete queued its processing on the {r.get('broker', 'embedded')} broker."
    )


def per_request_missed(r: dict) -> list[str]:
    return [
        f"per_request: {name} is {r[name]['ratio_to_floor']}x the floor (target {r[name]['target']}x)"
        for name in PER_REQUEST_ROWS
        if "target" in r[name] and not r[name]["meets_target"]
    ]


def scaling_figures(r: dict) -> str:
    q = r["list_queries"]
    queries = table(
        ["list page", "10 uploads", "10,000 uploads"],
        [
            ["API `GET /api/uploads`", q["api_10_rows"], q["api_10000_rows"]],
            ["HTMX partial", q["htmx_partial_10_rows"], q["htmx_partial_10000_rows"]],
        ],
    )
    cleanup = r["cleanup"]
    runs = sorted((run for run in cleanup.values() if isinstance(run, dict)), key=lambda run: run["n"])
    rows = [
        [
            kind,
            f"{run['n']:,}",
            run["wall_s"],
            run["per_item_ms"],
            ", ".join(f"{op} {count:,}" for op, count in sorted(run["s3_requests"].items())),
            run["peak_memory_mib"],
        ]
        for prefix, kind in (
            ("stale", "stale records"),
            ("orphans", "orphan objects"),
            ("verify", "complete records, `--verify`"),
        )
        for run in runs
        if cleanup.get(f"{prefix}_{run['n']}") is run
    ]
    growth = (
        f"Peak memory when N doubles: stale ×{cleanup['stale_memory_growth']}, "
        f"orphans ×{cleanup['orphans_memory_growth']}"
        + (f", verify ×{cleanup['verify_memory_growth']}" if "verify_memory_growth" in cleanup else "")
        + " (flat means well under ×2)."
    )
    return (
        queries
        + "\n\n"
        + table(["cleanup of", "N", "wall s", "ms per item", "S3 requests", "peak MiB"], rows)
        + "\n\n"
        + growth
    )


def scaling_missed(r: dict) -> list[str]:
    missed = []
    if not r["list_queries"]["equal"]:
        missed.append("scaling: queries per list page grow with the number of uploads")
    for name, run in r["cleanup"].items():
        if name.startswith("orphans_") and isinstance(run, dict):
            deletes = run["s3_requests"].get("DeleteObjects", 0)
            if deletes != math.ceil(run["n"] / 1000):
                missed.append(f"scaling: {deletes} delete requests for {run['n']} orphans")
    for name in ("stale", "orphans", "verify"):
        if r["cleanup"].get(f"{name}_memory_growth", 0) > FLAT_MEMORY:
            missed.append(f"scaling: {name} cleanup memory grows ×{r['cleanup'][f'{name}_memory_growth']}")
    return missed


LOAD_ROWS = {
    "presign": "presign `POST /api/uploads`",
    "complete": "complete `POST /api/uploads/{id}/complete`",
    "s3_post": "the file's POST to S3 (moto; not Django)",
}


def load_figures(r: dict) -> str:
    rows = [
        [label, f"{op['requests']:,}", op["rps"], op["p50_ms"], op["p99_ms"], op["failures"]]
        for name, label in LOAD_ROWS.items()
        for op in [r["operations"][name]]
    ]
    return (
        table(["operation", "requests", "per second", "p50 ms", "p99 ms", "errors"], rows)
        + f"\n\n{r['users']} locust users for {r['run_time_s']} s against gunicorn ({r['gunicorn_workers']} "
        f"sync workers) and {r['database']}: **{r['django_rps']} Django requests/s**, "
        f"{r['uploads_completed']:,} uploads completed, {r['errors']} errors."
    )


def load_missed(r: dict) -> list[str]:
    if r["meets_target"]:
        return []
    return [
        f"load: {r['errors']} errors, {r['uploads_completed']} of {r['operations']['complete']['requests']} completed"
    ]


def production_figures(r: dict) -> str:
    rows = [
        [
            f"+{latency} ms",
            label,
            f"{op['requests']:,}",
            op["rps"],
            op["p50_ms"],
            op["p99_ms"],
            op["failures"],
        ]
        for latency, run in r["latency"].items()
        for name, label in LOAD_ROWS.items()
        for op in [run["operations"][name]]
    ]
    totals = "; ".join(
        f"+{latency} ms: **{run['django_rps']} Django requests/s**, {run['uploads_completed']:,} uploads "
        f"completed, {run['errors']} errors"
        for latency, run in r["latency"].items()
    )
    server = r["server"]
    hung = r["hung_store"]
    return (
        table(["store latency", "operation", "requests", "per second", "p50 ms", "p99 ms", "errors"], rows)
        + f"\n\n{r['users']} locust users for {r['run_time_s']} s per latency against gunicorn.conf.py "
        f"({server['workers']} {server['worker_class']} workers × {server['threads']} threads, timeout "
        f"{server['timeout']} s) and {r['database']}: {totals}.\n\n"
        + table(
            ["store hung (accepts, never answers)", "answer", "seconds"],
            [
                [f"complete #{i + 1} (concurrent)", f"{c['status']} {c['code']}", c["seconds"]]
                for i, c in enumerate(hung["completes"])
            ]
            + [
                [
                    "presign meanwhile",
                    hung["presign_while_hung"]["status"],
                    hung["presign_while_hung"]["seconds"],
                ]
            ],
        )
        + f"\n\nSlowest 503: **{hung['max_seconds_to_503']} s**; the in-request store budget is "
        f"{hung['budget_s']:g} s (target: within it, plus {1:g} s)."
    )


def production_missed(r: dict) -> list[str]:
    if r["meets_target"]:
        return []
    errors = {latency: run["errors"] for latency, run in r["latency"].items()}
    return [
        f"production: errors by latency {errors}, slowest 503 {r['hung_store']['max_seconds_to_503']} s "
        f"(budget {r['hung_store']['budget_s']} s), presign while hung {r['hung_store']['presign_while_hung']['status']}"
    ]


def processing_figures(r: dict) -> str:
    rows = []
    for broker, f in r["brokers"].items():
        one, two = f["burst_1_workers"], f["burst_2_workers"]
        rows.append(
            [
                broker,
                f["thumbnails_per_s_1_process"],
                f"{one['p50_s']} / {one['p99_s']} ({one['all_done_s']})",
                f"{two['p50_s']} / {two['p99_s']} ({two['all_done_s']})",
                f"×{one['all_done_s'] / two['all_done_s']:.2f}",
            ]
        )
    text = table(
        [
            "broker",
            "12 MP thumbnails/s, 1 worker process",
            "burst of 100 (2 MP): complete → done p50 / p99 s (all done), 1 worker",
            "same, 2 workers",
            "2 workers vs 1",
        ],
        rows,
    )
    page = r["list_page"]
    text += (
        f"\n\nThe list page with {page['rows']} processed 12 MP photos "
        f"(about {r['photo_12mp_bytes']:,} bytes each) downloads **{page['after_bytes']:,} bytes** of images "
        f"({page['images_on_page']} WebP thumbnails), where it used to download the originals: "
        f"**{page['before_bytes']:,} bytes** (×{page['before_bytes'] / max(page['after_bytes'], 1):.0f} less); "
        f"its HTML is {page['html_bytes']:,} bytes."
    )
    return text


def processing_missed(r: dict) -> list[str]:
    page = r["list_page"]
    if page["after_bytes"] * 20 > page["before_bytes"]:
        return ["processing: the list page's thumbnails cost more than 5% of the originals"]
    return []


SECTIONS = {
    "per_request": (per_request_figures, per_request_missed),
    "scaling": (scaling_figures, scaling_missed),
    "load": (load_figures, load_missed),
    "production": (production_figures, production_missed),
    "datapath": (datapath_figures, datapath_missed),
    "datapath_seaweedfs": (datapath_figures, datapath_missed),
    "multipart": (multipart_figures, multipart_missed),
    "quotas": (quotas_figures, quotas_missed),
    "processing": (processing_figures, processing_missed),
    "scaleout": (scaleout_figures, scaleout_missed),
}


def write() -> list[str]:
    """Replace each section's figures in BENCHMARKS.md; return the targets missed."""
    from benchmarks.common import machine

    text = DOCUMENT.read_text()
    missed: list[str] = []
    figures = {"machine": machine_figures(machine())}
    for name, (render, check) in SECTIONS.items():
        results = load(name)
        if results is None:
            figures[name] = f"_Not run yet: `python -m benchmarks {name}`._"
            continue
        figures[name] = render(results)
        missed += check(results)
    for name, body in figures.items():
        text = re.sub(
            rf"(<!-- figures:{name} -->).*?(<!-- /figures:{name} -->)",
            lambda m, body=body: f"{m.group(1)}\n{body}\n{m.group(2)}",
            text,
            flags=re.DOTALL,
        )
    DOCUMENT.write_text(text)
    return missed
