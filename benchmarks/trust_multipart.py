"""The page's multipart uploads with and without hashing (issue 25), in the same run: the same file
through the same page in Chromium, under the site's CSP, taking turns. With hashing, each part is
read once in the Web Worker, digested natively (crypto.subtle), declared at /parts and sent from
that buffer (no whole-file hash in the page: the server's worker records it); without, each part
is a Blob slice sent undeclared. Hashing is turned off for a turn by marking it unavailable
(`UploadHashing.available = false`), as on a browser without WebAssembly. End to end (file chosen → `done`), the part PUTs' span alone, and the
CPU-seconds of each process group. Twice, as benchmarks/multipart.py does: with the store on its
own half of the cores (as S3 is in every real deployment), then with everything sharing them.
TRUST_BENCH_MIB sets the file's size (512 by default), TRUST_BENCH_ROUNDS the rounds (3).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import cpu
from benchmarks.common import gunicorn, save, seaweedfs, setup_django
from benchmarks.datapath import CHROMIUM, CHROMIUM_ARGS, sign_in
from benchmarks.multipart import PART_PUTS_SECONDS, prepare, write_random

MIB = 2**20
FILE_SIZE = int(os.environ.get("TRUST_BENCH_MIB", "512")) * MIB
PART_SIZE = 8 * MIB
ROUNDS = int(os.environ.get("TRUST_BENCH_ROUNDS", "3"))


def upload(page, path: Path, *, hashing: bool) -> tuple[float, float]:
    page.evaluate(f"window.UploadHashing.available = {'true' if hashing else 'false'}")
    started = time.perf_counter()
    page.set_input_files("#file-input", str(path))
    page.wait_for_function(
        "() => document.querySelector('.transfer[data-state=done], .transfer[data-state=failed]')",
        polling=250,
        timeout=1_800_000,
    )
    end_to_end = time.perf_counter() - started
    if page.locator(".transfer").first.get_attribute("data-state") != "done":
        raise RuntimeError("the page's upload failed")
    puts = page.evaluate(PART_PUTS_SECONDS)
    page.evaluate("document.getElementById('transfers').replaceChildren()")
    return end_to_end, puts


def run_rounds(page, path: Path) -> dict:
    """ROUNDS turns of each, with and without hashing, the order alternating; the medians and ratios."""
    times: dict[str, list] = {"with_hashing": [], "without_hashing": []}
    spent: dict[str, list] = {"with_hashing": [], "without_hashing": []}
    for round_ in range(ROUNDS):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for hashing in order:
            key = "with_hashing" if hashing else "without_hashing"
            before = cpu.cpu_seconds()
            times[key].append(upload(page, path, hashing=hashing))
            spent[key].append(cpu.spent(before, cpu.cpu_seconds()))
    mib = FILE_SIZE / MIB
    results: dict = {}
    for key, runs in times.items():
        results[key] = {
            "end_to_end_mib_s": round(mib / statistics.median(r[0] for r in runs), 1),
            "part_puts_mib_s": round(mib / statistics.median(r[1] for r in runs), 1),
            "end_to_end_mib_s_each": [round(mib / r[0], 1) for r in runs],
            "cpu_seconds": {g: statistics.median(r[g] for r in spent[key]) for g in cpu.GROUPS},
        }
    results["ratio_end_to_end"] = round(
        results["with_hashing"]["end_to_end_mib_s"] / results["without_hashing"]["end_to_end_mib_s"], 3
    )
    # Each round's own pair (the turns next to each other), for the spread.
    results["ratio_each_round"] = [
        round(without[0] / with_[0], 3)
        for with_, without in zip(times["with_hashing"], times["without_hashing"], strict=True)
    ]
    return results


def main() -> None:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as tmp,
        seaweedfs(Path(tmp) / "s3", access_key="bench", secret_key="bench-secret") as endpoint,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/trust.sqlite3",
            "AWS_S3_ENDPOINT_URL": endpoint,
            "UPLOADS_MAX_FILE_SIZE": str(FILE_SIZE),
            "UPLOADS_MULTIPART_PART_SIZE": str(PART_SIZE),
            "UPLOADS_PRESIGN_EXPIRATION": "3600",
        }
        os.environ.update(env)
        setup_django()
        path = Path(tmp) / "file.bin"
        write_random(path, FILE_SIZE)
        placements: dict = {}
        with gunicorn(env=env, workers=1, threads=4) as site:
            prepare(site)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()  # the site's real CSP: hash-wasm needs 'wasm-unsafe-eval'
                sign_in(page, site)
                if cpu.can_separate():
                    with cpu.store_on_own_cores() as cores:
                        placements["separate"] = {"cores": cores, **run_rounds(page, path)}
                placements["shared"] = run_rounds(page, path)
                browser.close()
        from uploads.models import Upload

        # The hashed turns: every part declared, no whole-file checksum from the page.
        declared = Upload.objects.exclude(declared_part_sha256={}).count()
    results = {
        "file_mib": FILE_SIZE / MIB,
        "part_mib": PART_SIZE / MIB,
        "rounds": ROUNDS,
        "declared_part_checksums": declared,
        "placements": placements,
    }
    save("trust_multipart", results)


if __name__ == "__main__":
    main()
