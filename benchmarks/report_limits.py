"""Figures and targets of the limits that must hold under concurrency: quotas, and two servers."""

from __future__ import annotations

from benchmarks.tables import table, yes


def quotas_figures(r: dict) -> str:
    rows = []
    for name, label in (("burst_pending", "pending uploads"), ("burst_bytes", "bytes reserved")):
        for when in ("before", "after"):
            b = r[name][when]
            value, limit = (
                (b["pending"], b["pending_limit"])
                if name == "burst_pending"
                else (b["bytes"], b["bytes_limit"])
            )
            rows.append([f"{label}, {when}", f"{value:,}", f"{limit:,}", yes(value <= limit)])
    check = r["check"]
    return (
        table(["50 presigns at once", "left", "limit", "within"], rows)
        + "\n\n"
        + table(
            [f"quota check, one user with {check['rows']:,} uploads", "ms (median)"],
            [
                ["before: SUM over the user's rows", check["before_ms"]],
                ["after: the user's usage row, locked", check["after_ms"]],
            ],
        )
    )


def quotas_missed(r: dict) -> list[str]:
    missed = []
    for name, value, limit in (
        ("pending", r["burst_pending"]["after"]["pending"], r["burst_pending"]["after"]["pending_limit"]),
        ("bytes", r["burst_bytes"]["after"]["bytes"], r["burst_bytes"]["after"]["bytes_limit"]),
    ):
        if value > limit:
            missed.append(f"quotas: a burst left {value} {name} over the limit {limit}")
    return missed


def scaleout_figures(r: dict) -> str:
    load = r["load"]
    servers = table(
        ["server", "requests", "per second", "errors"],
        [
            [name.replace("_", " "), f"{s['requests']:,}", s["rps"], s["errors"]]
            for name, s in load["per_server"].items()
        ]
        + [["**both**", f"{load['requests']:,}", f"**{load['rps']}**", load["errors"]]],
    )
    quota = r["quota_burst"]
    bursts = table(
        [
            f"{quota['presigns']} presigns of one user at once, half to each server",
            "accepted",
            "pending left",
            "bytes reserved",
            "within",
        ],
        [
            [
                f"{b['size']} bytes each ({name.replace('_', ' ')})",
                b["accepted"],
                f"{b['pending']} (limit {quota['pending_limit']})",
                f"{b['bytes']:,} (limit {quota['bytes_limit']:,})",
                yes(b["pending"] <= quota["pending_limit"] and b["bytes"] <= quota["bytes_limit"]),
            ]
            for name in ("pending_bound", "bytes_bound")
            for b in [quota[name]]
        ],
    )
    rate = r["rate_limit"]
    limit = int(rate["limit"].split("/")[0])
    rates = table(
        [
            f"{rate['one_after_another']['requests']} url requests of one user, half to each server ({rate['limit']})",
            "accepted",
            "by server",
            "429",
            "within",
        ],
        [
            [
                label,
                run["accepted"],
                " + ".join(map(str, run["accepted_by_server"])),
                run["refused_429"],
                yes(run["accepted"] <= limit),
            ]
            for name, label in (("one_after_another", "one after another"), ("all_at_once", "all at once"))
            for run in [rate[name]]
        ],
    )
    server = r["server"]
    return (
        f"{r['servers']} servers, each gunicorn.conf.py ({server['workers']} {server['worker_class']} workers × "
        f"{server['threads']} threads), on {r['database']} and {r['cache_and_broker']}; {load['threads']} threads "
        f"for {load['seconds']} s, presign → S3 → complete → url → list, each request to the other server:\n\n"
        + servers
        + "\n\n"
        + bursts
        + "\n\n"
        + rates
    )


def scaleout_missed(r: dict) -> list[str]:
    return [f"scaleout: {line}" for line in r["missed"]]
