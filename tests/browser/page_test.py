#!/usr/bin/python3
"""The search page in a real browser (headless Chromium through Selenium).

Indexes the bundled corpus and tests/fixtures/web/harbor.jsonl, starts
newsdex-search --listen http:127.0.0.1:0, and drives the page as a person
would: searches, ticks a source (the timeline then shows days by itself,
the span being short), switches it to months, picks a month on the
timeline (a click, then a drag), pages, opens an article, goes back; every check compares
what the page shows with what the fixture file says.  The fixture's last
article has <script> and <img onerror> in its title, URL and text: the
page must show them as text and run none of them.

Usage: page_test.py BUILD_DIR            run the test (exit 0 pass, 1 fail)
       page_test.py BUILD_DIR --screenshot PNG [QUERY]
                                         the bundled corpus only: search,
                                         save the page as PNG

Without Chromium, chromedriver or python3-selenium it prints one
"skipped" line, says how to install them, and exits 0.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "web", "harbor.jsonl")


def skip(why):
    print("browser test: skipped (%s; scripts/install-deps installs "
          "chromium, chromium-driver and python3-selenium)" % why)
    sys.exit(0)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    skip("python3-selenium is not installed")

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver")
    else None)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def start_server(build, index, workdir):
    log = os.path.join(workdir, "server.log")
    logf = open(log, "w")
    proc = subprocess.Popen(
        [os.path.join(build, "newsdex-search"), "-i", index, "--listen",
         "http:127.0.0.1:0", "--threads", "2"],
        stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    end = time.time() + 15
    while time.time() < end:
        with open(log) as f:
            m = re.search(r"listening on http:127\.0\.0\.1:(\d+)", f.read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    with open(log) as f:
        raise Failure("the server did not start:\n" + f.read())


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,900",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


class Page:
    def __init__(self, drv, base):
        self.d = drv
        self.base = base

    def renders(self):
        v = self.d.execute_script("return document.body.dataset.renders")
        return int(v or 0)

    def wait(self, before, what, timeout=10):
        """Waits for the render after `before` renders."""
        end = time.time() + timeout
        while time.time() < end:
            if self.renders() > before:
                return
            time.sleep(0.02)
        raise Failure("the page did not render after " + what)

    def act(self, what, fn):
        before = self.renders()
        fn()
        self.wait(before, what)

    def open(self, path):
        self.d.get(self.base + path)
        self.wait(0, "loading " + path)

    def texts(self, css):
        return [e.text for e in self.d.find_elements(By.CSS_SELECTOR, css)]

    def status(self):
        return self.d.find_element(By.ID, "status").text

    def query(self):
        return self.d.execute_script("return location.search")

    def pwned(self):
        return self.d.execute_script("return window.__pwned")


def total_in(status):
    m = re.search(r"of ([\d,]+)", status)
    return int(m.group(1).replace(",", "")) if m else 0


def with_server(build, paths, fn):
    """Indexes paths, serves the index over HTTP, opens a headless
    browser on it, and returns fn(Page); cleans up whatever happens."""
    work = tempfile.mkdtemp(prefix="ndx-browser-")
    proc = drv = None
    try:
        index = os.path.join(work, "web.idx")
        subprocess.run([os.path.join(build, "newsdex-index"), "-q", "-o",
                        index] + paths, check=True)
        proc, port = start_server(build, index, work)
        drv = browser()
        return fn(Page(drv, "http://127.0.0.1:%d" % port))
    finally:
        if drv:
            drv.quit()
        if proc:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def scenario(p):
    """What a person does on the page, checked against the fixture."""
    drv = p.d
    articles = [json.loads(l) for l in open(FIXTURE, encoding="utf-8")]
    harbor = [a for a in articles if a["id"].startswith("harbor-")]
    by_source = Counter(a["source"] for a in harbor)

    # The first search, typed in the box: every harbor article is found.
    p.open("/")
    box = drv.find_element(By.ID, "q")
    box.send_keys("harbor")
    p.act("a search", lambda: box.send_keys(Keys.ENTER))
    render_ms = float(drv.execute_script(
        "return document.body.dataset.renderMs"))
    print("browser test: first search rendered in %.1f ms "
          "(the request and the DOM; target 200 ms)" % render_ms)
    check(total_in(p.status()) == len(harbor),
          "status %r, want %d articles" % (p.status(), len(harbor)))
    check(len(p.texts("#results li")) == 10, "a page holds 10 hits")
    check("q=harbor" in p.query(), "the URL holds the query")
    check(len(drv.find_elements(By.CSS_SELECTOR, "#results mark")) >= 10,
          "snippets highlight the query word")
    names = p.texts("#sources .name")
    counts = p.texts("#sources .count")
    check(dict(zip(names, map(int, counts))) == dict(by_source),
          "source facet %r, want %r" % (dict(zip(names, counts)),
                                        dict(by_source)))
    months = Counter(a["date"][:7] for a in harbor)
    bars = drv.find_elements(By.CSS_SELECTOR, "#timeline .bar")
    # The corpus adds 2025; the harbor months are the first three.
    check([b.get_attribute("data-value") for b in bars[:3]] ==
          sorted(months), "timeline starts with the harbor months")
    check("on" in drv.find_element(By.ID, "by-month").get_attribute("class"),
          "matches over more than three months: a bar a month")

    # Paging.
    p.act("next page", lambda: drv.find_element(By.ID, "next").click())
    check(p.status().startswith("Articles 11–"), "page 2: " + p.status())
    check("offset=10" in p.query(), "the URL holds the page")
    p.act("back to page 1", drv.back)
    check(p.status().startswith("Articles 1–"), "back: " + p.status())

    # A source facet, then a second one (several at once).
    src, second = sorted(by_source)[0], sorted(by_source)[1]
    box_of = lambda name: drv.find_element(
        By.CSS_SELECTOR, "#sources input[value='%s']" % name)
    p.act("a source", lambda: box_of(src).click())
    check(total_in(p.status()) == by_source[src],
          "source %s: %r" % (src, p.status()))
    check(set(p.texts("#results .source")) == {src},
          "only %s is shown" % src)
    # The two sources' articles span three months at most: the timeline
    # shows days by itself, from the first matching day to the last.
    days = sorted(a["date"] for a in harbor if a["source"] == src)
    bars = drv.find_elements(By.CSS_SELECTOR, "#timeline .bar")
    check(len({d[:7] for d in days}) <= 3 and bars and
          bars[0].get_attribute("data-value") == days[0] and
          bars[-1].get_attribute("data-value") == days[-1],
          "one source: a bar a day from %s to %s" % (days[0], days[-1]))
    check("on" in drv.find_element(By.ID, "by-day").get_attribute("class")
          and "by=" not in p.query(), "days chosen, not asked for")
    p.act("a second source", lambda: box_of(second).click())
    check(total_in(p.status()) == by_source[src] + by_source[second],
          "two sources: %r" % p.status())
    # The month switch overrides the choice, in the URL.
    p.act("the month switch",
          lambda: drv.find_element(By.ID, "by-month").click())
    check("by=month" in p.query(), "the URL holds months: " + p.query())
    check(all(len(b.get_attribute("data-value")) == 7 for b in
              drv.find_elements(By.CSS_SELECTOR, "#timeline .bar")),
          "a bar a month")

    # A month picked by a click on its bar.
    month = sorted(months)[1]
    want = [a for a in harbor if a["date"][:7] == month and
            a["source"] in (src, second)]
    bar = drv.find_element(By.CSS_SELECTOR,
                           "#timeline .bar[data-value='%s']" % month)
    p.act("a click on the timeline", lambda: bar.click())
    check("from=%s" % month in p.query() and "to=%s" % month in p.query(),
          "the URL holds the month: " + p.query())
    check(total_in(p.status()) == len(want) or
          (not want and "No article" in p.status()),
          "month %s: %r, want %d" % (month, p.status(), len(want)))
    check(all(d.startswith(month) for d in p.texts("#results .date")),
          "every hit is of " + month)

    # Two months picked by a drag over the bars.
    bars = drv.find_elements(By.CSS_SELECTOR, "#timeline .bar")

    def drag():
        ActionChains(drv).click_and_hold(bars[0]).move_to_element(
            bars[1]).release(bars[1]).perform()
    p.act("a drag on the timeline", drag)
    first, second_m = sorted(months)[0], sorted(months)[1]
    check("from=%s" % first in p.query() and
          "to=%s" % second_m in p.query(), "drag: " + p.query())
    want = [a for a in harbor if first <= a["date"][:7] <= second_m and
            a["source"] in (src, second)]
    check(total_in(p.status()) == len(want),
          "drag: %r, want %d" % (p.status(), len(want)))
    p.act("shares", lambda: drv.find_element(By.ID, "show-shares").click())
    check("view=share" in p.query(), "the share switch is in the URL")

    # An article, and back.
    before = p.query()
    title = drv.find_elements(By.CSS_SELECTOR, "#results .title")[0]
    art_title = title.text
    p.act("opening an article", title.click)
    check("article=" in p.query(), "the URL holds the article")
    check(drv.find_element(By.CSS_SELECTOR, "#article h1").text ==
          art_title, "the article view shows its title")
    check(len(drv.find_elements(By.CSS_SELECTOR, "#article p.passage"))
          >= 1, "the article view shows its passages")
    p.act("the back button", drv.back)
    check(p.query() == before, "back restores " + before)
    check(drv.find_element(By.ID, "article").get_attribute("hidden")
          is not None, "back closes the article")

    # The payload: shown as text, run nowhere.
    payload = [a for a in articles if a["id"] == "payload-01"][0]
    p.open("/?q=payload")
    check(total_in(p.status()) == 1, "payload search: " + p.status())
    shown = drv.find_element(By.CSS_SELECTOR, "#results .title").text
    check(shown == payload["title"],
          "the payload title shows as text: %r" % shown)
    check(not drv.find_elements(By.CSS_SELECTOR,
                                "#results img, #results script"),
          "no element came from the payload")
    check(not drv.find_elements(By.CSS_SELECTOR, "#results a.orig"),
          "a javascript: URL is not a link")
    snippet = drv.find_element(By.CSS_SELECTOR, "#results .snippet").text
    check("<img" in snippet or "<script>" in snippet,
          "the payload text shows as text: %r" % snippet)
    p.act("the payload article",
          drv.find_element(By.CSS_SELECTOR, "#results .title").click)
    text = " ".join(p.texts("#article p.passage"))
    check('<img src=x onerror="window.__pwned=3">' in text,
          "the article shows the markup as text")
    check(not drv.find_elements(By.CSS_SELECTOR,
                                "#article img, #article script"),
          "no element came from the article text")
    time.sleep(0.2)  # an onerror would have fired by now
    check(p.pwned() is None, "no payload ran")
    print("browser test: passed (search, paging, two sources, days chosen "
          "for a short span, months by the switch, a month by click, two "
          "by drag, shares, article and back, payload as text)")
    return 0


def run(build):
    try:
        return with_server(build, [os.path.join(ROOT, "corpus"), FIXTURE],
                           scenario)
    except Failure as f:
        print("browser test: FAILED: %s" % f)
        return 1


def screenshot(build, png, query):
    def shoot(p):
        p.open("/?" + query)
        p.d.save_screenshot(png)
        print("browser test: screenshot of /?%s in %s (the search rendered "
              "in %s ms)" % (query, png, p.d.execute_script(
                  "return document.body.dataset.renderMs")))
        return 0
    return with_server(build, [os.path.join(ROOT, "corpus")], shoot)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if not BROWSER:
        skip("chromium is not installed")
    if not DRIVER:
        skip("chromium-driver is not installed")
    build = argv[1]
    if len(argv) >= 4 and argv[2] == "--screenshot":
        return screenshot(build, argv[3],
                          argv[4] if len(argv) > 4 else "q=ukraine")
    t0 = time.time()
    rc = run(build)
    print("browser test: %.1f s" % (time.time() - t0))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
