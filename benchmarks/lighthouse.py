"""`make lighthouse`: Lighthouse performance scores of the home, search and clinic
pages on demo data, served by gunicorn as in production, measured with Debian's
Chromium; also prints the compressed sizes of the home page's resources and each
page's first (cold) and warm server response times.

    LIGHTHOUSE=.lighthouse/node_modules/.bin/lighthouse python -m benchmarks.lighthouse

LIGHTHOUSE_RUNS=3 measures each page three times and prints the median score (TBT
moves with the machine's load).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops.servers import BIN, Proc, free_port, gunicorn_command, wait_until  # noqa: E402

SECRET = "lighthouse-secret-key-0123456789abcdefghij"


def fetch(url: str, encoding: str = "identity") -> bytes:
    req = urllib.request.Request(url, headers={"Accept-Encoding": encoding})  # noqa: S310
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
        return r.read()


def main() -> int:
    runs = int(os.environ.get("LIGHTHOUSE_RUNS", "1"))
    lighthouse = os.environ.get(
        "LIGHTHOUSE", str(ROOT / ".lighthouse" / "node_modules" / ".bin" / "lighthouse")
    )
    tmp = Path(tempfile.mkdtemp(prefix="directory-lighthouse-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env.update(DIRECTORY_INSTANCE_PATH=str(tmp / "instance"), DIRECTORY_SECRET_KEY=SECRET)
    flask = [str(BIN / "flask"), "--app", "directory"]
    run = dict(env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*flask, "db", "upgrade"], **run)  # noqa: S603
    subprocess.run([*flask, "seed-demo", "--clinics", "40"], **run)  # noqa: S603
    subprocess.run([*flask, "search", "rebuild"], **run)  # noqa: S603
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = Proc(
        gunicorn_command(port),
        dict(env, WEB_CONCURRENCY="2"),
        tmp / "web.log",
    )
    try:
        wait_until(lambda: fetch(base + "/healthz"), 120, "gunicorn")
        home = fetch(base + "/").decode()
        slug = re.search(r'href="/clinics/([a-z0-9-]+)"', home).group(1)
        pages = {"home": "/", "search": "/search?q=london", "clinic": f"/clinics/{slug}"}
        # Lighthouse measures the page as a warm server sends it; a worker's first
        # request of a page (templates compiled, index opened, cache empty) is
        # printed here instead of landing in whichever Lighthouse run meets it.
        print("First response of each page, then warm (ms):")
        for name, path in pages.items():
            times = []
            for _ in range(6):
                start = time.perf_counter()
                fetch(base + path)
                times.append((time.perf_counter() - start) * 1000)
            warm = statistics.median(times[1:])
            print(f"  {name:<7} first {times[0]:>6.0f}  warm median {warm:>5.0f}")
        print("Compressed sizes of the home page's resources (bytes):")
        print(f"{'resource':<48} {'raw':>8} {'gzip':>8} {'brotli':>8}")
        urls = ["/"] + [
            u.replace("&amp;", "&")
            for u in re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', home)
        ]
        for u in urls:
            raw = fetch(base + u)
            gz = fetch(base + u, "gzip")
            br = fetch(base + u, "br")
            # images are sent as they are; text comes compressed
            assert gz == raw or gzip.decompress(gz) == raw or u == "/"
            assert br == raw or brotli.decompress(br) == raw or u == "/"
            print(f"{u.split('?')[0]:<48} {len(raw):>8} {len(gz):>8} {len(br):>8}")
        print(
            "\nLighthouse 12 performance (mobile preset, simulated throttling, Debian Chromium);"
            f" {runs} run(s) a page, JSON reports in {tmp}:"
        )
        for name, path in pages.items():
            scores = []
            for i in range(runs):
                out = tmp / f"{name}-{i + 1}.json"
                subprocess.run(  # noqa: S603
                    [
                        lighthouse,
                        base + path,
                        "--only-categories=performance",
                        "--output=json",
                        f"--output-path={out}",
                        "--quiet",
                        "--chrome-path=/usr/bin/chromium",
                        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                    ],
                    check=True,
                )
                report = json.loads(out.read_text())
                score = round(report["categories"]["performance"]["score"] * 100)
                scores.append(score)
                audits = report["audits"]
                fcp = audits["first-contentful-paint"]["displayValue"]
                lcp = audits["largest-contentful-paint"]["displayValue"]
                tbt = audits["total-blocking-time"]["displayValue"]
                cls = audits["cumulative-layout-shift"]["displayValue"]
                print(
                    f"  {name:<7} {path:<40} score {score:>3}  FCP {fcp}  LCP {lcp}"
                    f"  TBT {tbt}  CLS {cls}"
                )
            if runs > 1:
                print(f"  {name:<7} median score {statistics.median(scores):g}")
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
