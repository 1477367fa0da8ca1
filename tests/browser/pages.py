#!/usr/bin/python3
"""tests/browser/pages.py - Flux's pages in a real browser, Debian's
chromium (headless), driven over the Chrome DevTools Protocol directly,
for tests/browser.bats.

  pages.py status URL SHOT [KEY]
      load URL (the status page), print what it shows as JSON, save a
      screenshot to SHOT; with KEY, also send the page's key form and
      print the details view (and SHOT with "-detail" before ".png").
  pages.py upload URL SHOT FIELDS_JSON [SECONDS]
      load URL (the upload page), fill its form with FIELDS_JSON (name to
      value; data_file and info_file are paths), send it, follow the status
      the page shows until it is final (at most SECONDS, 120 by default),
      print it as JSON, and save a screenshot.
  pages.py post URL SHOT FIELDS_JSON
      load URL (the upload page), fill its form the same way and send it
      as the browser does without JavaScript (form.submit() fires no
      submit event, so the page's script stays out): print the HTTP status
      and the text of the page the browser then shows, save a screenshot.

The protocol goes over a pipe (--remote-debugging-pipe: the browser
reads NUL-terminated JSON messages on its fd 3 and writes them on fd 4),
so nothing beyond Python's standard library is needed, and no port is
opened. The machine's network is closed: chromium is started with every
background connection off, or it waits on them; each run gets a fresh
profile directory, removed after it.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHROMIUM = os.environ.get("FLUX_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]
# A phone's width: the pages must read there.
WIDTH, HEIGHT = 412, 915
# No single protocol call takes this long on a sane machine.
CALL_SECONDS = 60


class Browser:
    """One chromium with one page, spoken to over its pipe."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="flux-chromium-")
        to_child, self.out = os.pipe()
        self.inp, from_child = os.pipe()

        # In the child, after the fork: the pipe's ends become fds 3 and 4
        # (by way of fds above them, as the pipes may be 3 or 4 already),
        # and nothing else is kept open but what is not close-on-exec.
        def fds():
            t = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            f = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(t, 3)
            os.dup2(f, 4)
            os.close(t)
            os.close(f)

        self.proc = subprocess.Popen(
            [CHROMIUM] + FLAGS + ["--user-data-dir=" + self.profile,
                                  "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=fds)
        os.close(to_child)
        os.close(from_child)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        self.errors = []

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + CALL_SECONDS
        while True:
            m = self.read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def read(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.inp, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        m = json.loads(raw)
        if m.get("method") == "Runtime.exceptionThrown":
            self.errors.append(m["params"]["exceptionDetails"].get("text", ""))
        return m

    def wait_event(self, method, seconds=CALL_SECONDS):
        """The first event method, kept or still to come."""
        deadline = time.monotonic() + seconds
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                del self.events[: i + 1]
                return m
        self.events.clear()
        while True:
            m = self.read(deadline)
            if m.get("method") == method:
                return m

    def open_page(self):
        targets = self.send("Target.getTargets", session=False)
        page = next(t for t in targets["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {
            "targetId": page["targetId"], "flatten": True},
            session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1,
            "mobile": True})

    def goto(self, url):
        """Load url; its HTTP status."""
        self.send("Network.enable")
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        return self.document_status()

    def document_status(self):
        """The HTTP status of the document the page loads next."""
        status = None
        deadline = time.monotonic() + CALL_SECONDS
        while True:
            # Events that came with the answer to navigate first.
            m = self.events.pop(0) if self.events else self.read(deadline)
            if m.get("method") == "Network.responseReceived" and \
                    m["params"]["type"] == "Document" and status is None:
                status = m["params"]["response"]["status"]
            if m.get("method") == "Page.loadEventFired":
                return status

    def js(self, expr):
        """The value of the JavaScript expression expr (awaited)."""
        r = self.send("Runtime.evaluate", {
            "expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expr, seconds):
        deadline = time.monotonic() + seconds
        while not self.js(expr):
            if time.monotonic() > deadline:
                raise TimeoutError("waited %s s for %s" % (seconds, expr))
            time.sleep(0.25)

    def set_files(self, selector, path):
        doc = self.send("DOM.getDocument")
        node = self.send("DOM.querySelector", {
            "nodeId": doc["root"]["nodeId"], "selector": selector})
        self.send("DOM.setFileInputFiles", {
            "files": [os.path.abspath(path)], "nodeId": node["nodeId"]})

    def screenshot(self, path):
        """The whole page, as tall as it is, at the phone's width."""
        h = self.js("document.documentElement.scrollHeight")
        r = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": h, "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.send("Browser.close", session=False)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)
        shutil.rmtree(self.profile, ignore_errors=True)


# What the status page shows: the verdict, each row of the health table,
# each chart's total, the uploads part, and the page's width.
READ_STATUS = """(() => {
  const text = (sel) => {
    const e = document.querySelector(sel);
    return e ? e.textContent.trim() : null;
  };
  const rows = {};
  for (const tr of document.querySelectorAll('table.health tr'))
    rows[tr.id] = tr.querySelector('td').textContent.trim();
  const charts = {};
  for (const f of document.querySelectorAll('figure'))
    charts[f.id] = Number(f.querySelector('.total').textContent);
  const uploads = [];
  for (const tr of document.querySelectorAll('table.uploads tr')) {
    const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent);
    if (cells.length) uploads.push(cells);
  }
  return {
    title: document.title, status: text('#status'),
    reasons: [...document.querySelectorAll('.reason')].map((e) => e.textContent),
    health: rows, charts, uploads, uploads_text: text('#uploads'),
    scroll_width: document.documentElement.scrollWidth,
    client_width: document.documentElement.clientWidth,
  };
})()"""


def status_page(b, url, shot, key):
    out = {"http_status": b.goto(url), "view": b.js(READ_STATUS)}
    b.screenshot(shot)
    if key:
        b.js("document.querySelector('input[name=key]').value = %s"
             % json.dumps(key))
        b.events.clear()
        b.js("document.querySelector('button[type=submit]').click()")
        b.wait_event("Page.loadEventFired")
        out["detail"] = b.js(READ_STATUS)
        b.screenshot(shot[:-4] + "-detail.png" if shot.endswith(".png")
                     else shot + "-detail")
    return out


def fill_form(b, fields):
    """The upload form's fields set to fields (files by path)."""
    for name, value in fields.items():
        sel = '#upload [name="%s"]' % name
        kind = b.js("(() => { const e = document.querySelector(%s); "
                    "return e.tagName + ':' + e.type; })()" % json.dumps(sel))
        if kind == "INPUT:file":
            b.set_files(sel, value)
        else:
            # As typing would: the value, then the events a form sees.
            b.js("(() => { const e = document.querySelector(%s); e.value = %s;"
                 " e.dispatchEvent(new Event('input', {bubbles: true}));"
                 " e.dispatchEvent(new Event('change', {bubbles: true})); })()"
                 % (json.dumps(sel), json.dumps(value)))


def upload_page(b, url, shot, fields, seconds):
    out = {"http_status": b.goto(url)}
    out["field_order"] = b.js(
        "[...document.querySelectorAll('#upload [name]')].map((e) => e.name)")
    fill_form(b, fields)
    b.js("document.querySelector('#submit').click()")
    b.wait_for("(() => { const m = document.querySelector('#message');"
               " return m !== null && ['complete', 'partial', 'failed',"
               " 'error'].includes(m.className); })()", seconds)
    out["message"] = b.js("document.querySelector('#message').textContent")
    out["state"] = b.js("document.querySelector('#message').className")
    out["record"] = b.js("""(() => {
      const r = {};
      for (const tr of document.querySelectorAll('#record tr'))
        r[tr.cells[0].textContent] = tr.cells[1].textContent;
      return r;
    })()""")
    out["scroll_width"] = b.js("document.documentElement.scrollWidth")
    out["client_width"] = b.js("document.documentElement.clientWidth")
    b.screenshot(shot)
    return out


def post_form(b, url, shot, fields):
    b.goto(url)
    fill_form(b, fields)
    b.events.clear()
    # The form's own submit(), not the button named "submit" it holds.
    b.js("HTMLFormElement.prototype.submit.call("
         "document.getElementById('upload'))")
    out = {"http_status": b.document_status()}
    out["text"] = b.js("document.body.innerText")
    b.screenshot(shot)
    return out


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if not ((cmd == "status" and len(argv) in (4, 5)) or
            (cmd == "upload" and len(argv) in (5, 6)) or
            (cmd == "post" and len(argv) == 5)):
        sys.stderr.write("usage: pages.py status URL SHOT [KEY] | "
                         "upload URL SHOT FIELDS_JSON [SECONDS] | "
                         "post URL SHOT FIELDS_JSON\n")
        return 2
    b = Browser()
    try:
        b.open_page()
        if cmd == "status":
            out = status_page(b, argv[2], argv[3],
                              argv[4] if len(argv) > 4 else None)
        elif cmd == "post":
            out = post_form(b, argv[2], argv[3], json.loads(argv[4]))
        else:
            out = upload_page(b, argv[2], argv[3], json.loads(argv[4]),
                              float(argv[5]) if len(argv) > 5 else 120)
        out["script_errors"] = b.errors
    finally:
        b.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
