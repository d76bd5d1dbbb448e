"""`scripts/bench web`: the browser client's weight and its time to first render.

Bytes: the page at API_URL/ and every file it loads from /assets/, raw and gzip-compressed (as
API Gateway's content encoding would send them; level 6, gzip's default), per file and in total.
Render: BENCH_WEB_LOADS (default 10) loads of the page in headless Chromium (Debian's chromium
and chromium-driver, through Selenium from the project's .venv), the browser cache off so each
load fetches everything, as a first visit does: first contentful paint, DOMContentLoaded, the
load event, and "ready" (none mode's user list filled from /users/, the page usable); min,
median and max in ms. Writes BENCH_JSON (default target/bench/web.json) too.
"""

import gzip
import json
import os
import re
import shutil
import statistics
import sys
import time

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

API = os.environ["API_URL"]
LOADS = int(os.environ.get("BENCH_WEB_LOADS", "10"))

# Before the page's own scripts (a DevTools script, outside the page's Content-Security-Policy):
# the moment the user picker gets its first option.
READY_PROBE = """
new MutationObserver((_, observer) => {
  const select = document.getElementById("pick-select");
  if (select && select.options.length) { window.__ready = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, childList: true});
"""


def weight():
    # The first request starts the web function's instance (cargo lambda watch): not measured.
    requests.get(API + "/", timeout=120)
    page = requests.get(API + "/", timeout=10)
    page.raise_for_status()
    names = ["/"] + sorted(set(re.findall(r'(?:href|src)="(/assets/[^"]+)"', page.text)))
    rows = []
    for name in names:
        body = page.content if name == "/" else requests.get(API + name, timeout=10).content
        rows.append({"file": "index.html" if name == "/" else name.rsplit("/", 1)[1],
                     "raw": len(body), "gzip": len(gzip.compress(body, compresslevel=6, mtime=0))})
    return rows


def render():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,760"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": READY_PROBE})
        driver.get(API + "/")  # a first load, not counted: the browser's own start-up
        samples = []
        for _ in range(LOADS):
            driver.get("about:blank")
            driver.get(API + "/")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sample = driver.execute_script("""
                    const nav = performance.getEntriesByType("navigation")[0];
                    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
                    if (!nav || !nav.loadEventEnd || !fcp || !window.__ready) return null;
                    return {fcp: fcp.startTime, dom_content_loaded: nav.domContentLoadedEventEnd,
                            load: nav.loadEventEnd, ready: window.__ready};""")
                if sample:
                    samples.append(sample)
                    break
                time.sleep(0.05)
            else:
                sys.exit("the page did not render within 10 s")
        return samples
    finally:
        driver.quit()


def main():
    rows = weight()
    print(f"{'file':<18}{'bytes':>10}{'gzip':>10}")
    for row in rows:
        print(f"{row['file']:<18}{row['raw']:>10}{row['gzip']:>10}")
    code = [r for r in rows if r["file"].endswith((".html", ".js", ".css"))]
    total = {"raw": sum(r["raw"] for r in code), "gzip": sum(r["gzip"] for r in code)}
    print(f"{'HTML + JS + CSS':<18}{total['raw']:>10}{total['gzip']:>10}")
    everything = {"raw": sum(r["raw"] for r in rows), "gzip": sum(r["gzip"] for r in rows)}
    print(f"{'all files':<18}{everything['raw']:>10}{everything['gzip']:>10}")
    samples = render()
    print(f"\n{len(samples)} loads in headless Chromium, cache off (ms){'min':>12}{'median':>9}{'max':>8}")
    timing = {}
    for key, label in (("fcp", "first contentful paint"), ("dom_content_loaded", "DOMContentLoaded"),
                       ("load", "load event"), ("ready", "ready (user list shown)")):
        values = [s[key] for s in samples]
        timing[key] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
        print(f"  {label:<46}{timing[key]['min']:>10.1f}{timing[key]['median']:>9.1f}{timing[key]['max']:>8.1f}")
    out = os.environ.get("BENCH_JSON", "target/bench/web.json")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump({"files": rows, "html_js_css": total, "all": everything, "loads": len(samples), "timing_ms": timing}, f, indent=2)
    if total["gzip"] >= 60 * 1024:
        sys.exit(f"the page weighs {total['gzip']} bytes compressed: over the 60 KB budget")


if __name__ == "__main__":
    main()
