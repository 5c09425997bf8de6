"""Figures and targets of the benchmarks that move bytes: the data path and multipart uploads."""

from __future__ import annotations

from benchmarks.tables import table


def datapath_figures(r: dict) -> str:
    rows = [
        ["the page's uploader in Chromium (XHR)", r["browser_mib_s"], r["browser_best_mib_s"]],
        ["`curl`, same fields, same server", r["curl_mib_s"], r["curl_best_mib_s"]],
    ]
    return (
        table(
            [f"{r['file_mib']:.0f} MiB to S3 ({r.get('store', 'moto')})", "median MiB/s", "best MiB/s"], rows
        )
        + f"\n\nThe page reaches **{r['ratio']:.0%}** of curl's throughput (target ≥ {r['target_ratio']:.0%}; "
        f'median of {r["rounds"]} rounds; {r["page_end_to_end_s"]} s from choosing the file to "Uploaded", '
        f"presign and complete included). Meanwhile Django received {r['django_requests']} requests with "
        f"**{r['django_body_bytes']:,} bytes** of request bodies in all (the JSON of {r['rounds']} presigns), "
        f"and recorded {r['uploads_completed']} uploads of {', '.join(f'{size:,}' for size in r['sizes_recorded'])} bytes."
    )


def datapath_missed(r: dict) -> list[str]:
    if r["meets_target"]:
        return []
    return [
        f"datapath: the page reached {r['ratio']:.0%} of curl (target {r['target_ratio']:.0%}), "
        f"Django received {r['django_body_bytes']} body bytes"
    ]


MULTIPART_CLIENTS = {
    "page": "the page's uploader (multipart.js, progress UI)",
    "uppy": "Uppy 6 (headless), signing through /sign",
    "bare": "bare XHR PUTs: Chromium's own ceiling",
    "boto3": "`boto3.upload_file`",
}


def multipart_figures(r: dict) -> str:
    placements = r["placements"]
    separate, shared = placements.get("separate"), placements["shared"]
    header = [
        f"{r['file_mib']:.0f} MiB to {r['store']}, {r['part_mib']:.0f} MiB parts, {r['concurrency']} at a time",
        "MiB/s, store on its own core" if separate else "",
        "MiB/s, all on shared cores",
        "CPU-s: client",
        "CPU-s: Django",
        "CPU-s: store",
    ]
    cpu = {name: shared["cpu_seconds"][name] for name in MULTIPART_CLIENTS}  # shared cores
    rows = [
        [label, separate["mib_s"][name] if separate else "", shared["mib_s"][name]]
        + [round(cpu[name]["browser"] + cpu[name]["bench"], 1), cpu[name]["django"], cpu[name]["store"]]
        for name, label in MULTIPART_CLIENTS.items()
    ]
    text = table(header, rows) + "\n\n"
    if separate:
        text += (
            f"With the store on its own core, the page reaches **{separate['page_vs_boto3']:.0%}** of boto3's "
            f"throughput (target ≥ {r['target_ratio']:.0%}) and Uppy {separate['uppy_vs_boto3']:.0%}. "
        )
    text += (
        f"On shared cores the page reaches {shared['page_vs_boto3']:.0%} of boto3, and "
        f"**{shared['page_vs_bare']:.0%} of bare Chromium** (target ≥ {r['target_ratio']:.0%}), which itself "
        f"reaches {shared['bare_vs_boto3']:.0%} of boto3; Uppy {shared['uppy_vs_boto3']:.0%}. CPU-seconds are "
        f"per upload on shared cores (median of {r['rounds']} rounds; seconds per round in "
        "`benchmarks/results/multipart.json`). "
        f"Django received **{max(p['page_body_bytes'] for p in placements.values()):,} bytes** of request "
        f"bodies during the page's {r['rounds']} uploads (starts, part-URL batches, completes)."
    )
    if r.get("big"):
        big = r["big"]
        text += (
            f" One {big['gib']} GiB file (over S3's 5 GB single-POST limit) went through the page in "
            f"{big['end_to_end_seconds']} s, end to end."
        )
    return text


def multipart_missed(r: dict) -> list[str]:
    if r["meets_target"]:
        return []
    shared = r["placements"]["shared"]
    return [
        f"multipart: the page reached {r['ratio']:.0%} of boto3 and {shared['page_vs_bare']:.0%} of bare "
        f"Chromium (targets {r['target_ratio']:.0%}); {r['uploads_completed']} uploads completed"
    ]
