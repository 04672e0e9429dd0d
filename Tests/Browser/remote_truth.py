"""The coach's page in a real headless Chromium at a phone's 390x844, driven by Selenium.

Usage:
  remote_truth.py states URL FOLDER   # a drill's states, the marker, the picture, errors in place;
                                      # screenshots FOLDER/<state>.png. URL: from `coach --remote`
                                      # with the user preset `quick` (caution, 2 short sets, a rest).
  remote_truth.py cross URL           # a page from another origin tries to act; nothing changes
Prints one line per check and exits 1 on the first that fails. Run by RemotePageTests.swift.
"""
import http.server
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

from phone import check_console_clean, check_no_sideways_scroll, fail, ok, phone_browser


def browser():
    return phone_browser(scale=3)


def api_status(url):
    parts = urllib.parse.urlparse(url)
    token = urllib.parse.parse_qs(parts.fragment)["token"][0]
    request = urllib.request.Request("http://%s/api/status" % parts.netloc,
                                     headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def states(url, folder):
    driver = browser()
    try:
        driver.get(url)
        # The picture is replaced when redrawn: an element found a moment ago may be gone.
        wait = WebDriverWait(driver, 30, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])
        # The text as written (Selenium's .text applies the CSS upper-casing).
        text = lambda id: driver.find_element(By.ID, id).get_attribute("textContent")
        wait.until(lambda d: text("conn") == "live")
        def shot(name, state=True):
            # The status card at the top, then the plan picture with its marker.
            if state:
                driver.execute_script("window.scrollTo(0, 0)")
                driver.save_screenshot(os.path.join(folder, name + ".png"))
                driver.execute_script("document.getElementById('plan').scrollIntoView({block: 'center'})")
                driver.save_screenshot(os.path.join(folder, name + "-plan.png"))
            else:
                driver.save_screenshot(os.path.join(folder, name + ".png"))
            ok("screenshot " + name)
        marker = lambda: driver.execute_script(
            "const m = document.getElementById('marker'); return m.style.display === 'none' ? null : m.offsetLeft")
        inner_width = lambda: driver.execute_script("return document.getElementById('planinner').offsetWidth")

        wait.until(lambda d: any(b.text == "quick" for b in d.find_elements(By.CSS_SELECTOR, "#library button")))
        next(b for b in driver.find_elements(By.CSS_SELECTOR, "#library button") if b.text == "quick").click()

        # The spoken caution: a state of its own, no step 0, no tempo over its silence.
        wait.until(lambda d: text("state") == "caution")
        if text("step") != "caution first" or text("tempo") != "":
            fail("during the caution: step %r, tempo %r" % (text("step"), text("tempo")))
        ok("caution: %r, no step, no tempo" % text("state"))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plan svg")) == 1)
        wait.until(lambda d: marker() is not None)
        caution_marker = marker()
        ok("caution marker at %s px" % caution_marker)
        # Readable at 390 px: the picture's smallest text (11 px at its 960 px width) is drawn
        # at 9 px or more; the picture scrolls inside its card, the page never sideways.
        scale = driver.execute_script(
            "const s = document.querySelector('#plan svg'); return s.getBoundingClientRect().width / s.viewBox.baseVal.width")
        if scale * 11 < 9:
            fail("plan picture text drawn at %.1f px" % (scale * 11))
        ok("plan picture text at %.1f px or more (scale %.2f)" % (scale * 11, scale))
        shot("caution")

        wait.until(lambda d: text("state") == "count-in")
        if not text("step").startswith("count-in"):
            fail("count-in shows %r" % text("step"))
        ok("count-in: %r" % text("step"))
        shot("count-in")

        wait.until(lambda d: text("state") == "playing")
        wait.until(lambda d: text("step").startswith("step ") and text("tempo").startswith("playing at"))
        playing_marker = marker()
        if playing_marker is None or playing_marker <= caution_marker:
            fail("playing: marker at %s px, after the caution's %s px" % (playing_marker, caution_marker))
        ok("playing: %r %r, marker at %s px" % (text("step"), text("tempo"), playing_marker))
        shot("playing")

        # The rest: its own state; the next set named as next; no tempo over the silence.
        wait.until(lambda d: text("state") == "rest")
        time.sleep(0.3)
        if text("tempo") != "" or not text("set").startswith("next: set 2/2") or not text("step").startswith("rest "):
            fail("during the rest: set %r, step %r, tempo %r" % (text("set"), text("step"), text("tempo")))
        rest_marker = marker()
        if rest_marker is None or rest_marker <= playing_marker:
            fail("rest: marker at %s px, not past the set's %s px" % (rest_marker, playing_marker))
        ok("rest: %r %r, marker at %s px" % (text("set"), text("step"), rest_marker))
        shot("rest")

        # `next` skips the rest: the marker jumps with the session to set 2's count-in.
        driver.find_element(By.ID, "skip").click()
        wait.until(lambda d: text("state") in ("count-in", "playing") and text("set") == "set 2/2")
        time.sleep(0.2)
        skipped_marker = marker()
        jump = (skipped_marker - rest_marker) / inner_width()
        if jump < 0.25:
            fail("after next the marker moved %.2f of the picture (from %s to %s px)" % (jump, rest_marker, skipped_marker))
        ok("next skipped the rest: marker %s -> %s px (%.2f of the picture)" % (rest_marker, skipped_marker, jump))

        # Paused: its own state; the marker holds still.
        driver.find_element(By.ID, "pause").click()
        wait.until(lambda d: text("state") == "paused")
        held = marker()
        time.sleep(1.0)
        if marker() != held or text("tempo") != "":
            fail("paused: marker %s -> %s, tempo %r" % (held, marker(), text("tempo")))
        ok("paused: marker holds at %s px, no tempo" % held)
        shot("paused")

        # −5: the picture is drawn again at the coach's cadence.
        before = driver.find_element(By.CSS_SELECTOR, "#plan svg").get_attribute("outerHTML")
        driver.find_element(By.XPATH, "//button[text()='−5']").click()
        wait.until(lambda d: "coach's 175 spm" in d.find_element(By.CSS_SELECTOR, "#plan svg").get_attribute("outerHTML"))
        ok("−5 redrew the picture at 175 spm")
        driver.find_element(By.ID, "pause").click()
        wait.until(lambda d: text("state") in ("playing", "count-in"))

        # A saved edit redraws the picture; a refused one replaces the old "Saved" beside the button.
        rest = driver.find_element(By.ID, "e-rest")
        rest.clear()
        rest.send_keys("30")
        driver.find_element(By.CSS_SELECTOR, "#edit button").click()
        wait.until(lambda d: "Saved" in text("saved"))
        wait.until(lambda d: "rest 30 s" in d.find_element(By.CSS_SELECTOR, "#plan svg").get_attribute("outerHTML"))
        ok("saved: %r; the picture shows rest 30 s" % text("saved").split("\n")[0])
        cadence = driver.find_element(By.ID, "e-cadence")
        cadence.clear()
        cadence.send_keys("999")
        driver.find_element(By.CSS_SELECTOR, "#edit button").click()
        wait.until(lambda d: "Saved" not in text("saved") and "cadence" in text("saved"))
        saved = driver.find_element(By.ID, "saved")
        button = driver.find_element(By.CSS_SELECTOR, "#edit button")
        gap = saved.rect["y"] - (button.rect["y"] + button.rect["height"])
        if "error" not in saved.get_attribute("class") or not 0 <= gap < 60:
            fail("refused edit: %r, class %r, %s px below the button" % (text("saved"), saved.get_attribute("class"), gap))
        ok("refused edit beside its button (%d px below): %r" % (gap, text("saved")))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", saved)
        shot("refused-edit", state=False)

        # A refused "say" keeps its text, and says why beside the box.
        driver.find_element(By.ID, "stop").click()
        wait.until(lambda d: text("state").startswith("waiting"))
        box = driver.find_element(By.ID, "saytext")
        box.send_keys("stay tall")
        driver.find_element(By.CSS_SELECTOR, "#sayform button").click()
        wait.until(lambda d: text("msg-say") != "")
        message = driver.find_element(By.ID, "msg-say")
        gap = message.rect["y"] - (box.rect["y"] + box.rect["height"])
        if box.get_attribute("value") != "stay tall" or "error" not in message.get_attribute("class") or not 0 <= gap < 60:
            fail("refused say: box %r, message %r, %s px below" % (box.get_attribute("value"), text("msg-say"), gap))
        ok("refused say kept 'stay tall'; beside it: %r" % text("msg-say"))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", message)
        shot("refused-say", state=False)

        check_no_sideways_scroll(driver)
        check_console_clean(driver, but_refused_calls=True)
    finally:
        driver.quit()


EVIL = """<!doctype html><html><body><h1>Totally a running blog</h1><script>
const target = new URLSearchParams(location.search).get("t");
const sent = [];
async function attempt(path, body, type, extra) {
  const headers = Object.assign({"Content-Type": type}, extra || {});
  for (const mode of ["no-cors", "cors"]) {
    try { await fetch(target + path, {method: "POST", mode, headers, body, credentials: "include"}); sent.push(mode + " " + path); }
    catch (e) { sent.push("blocked " + path); }
  }
}
async function go() {
  const wrong = {"Authorization": "Bearer 0123456789abcdef0123456789abcdef"};
  for (const path of ["/api/cadence", "//api/cadence", "/api//cadence", "/api/cadence/", "/API/cadence"]) {
    await attempt(path, '{"spm":30}', "text/plain");
    await attempt(path, '{"spm":30}', "application/json");
  }
  await attempt("/api/stop", "{}", "text/plain");
  await attempt("/api/preset", '{"preset":"bum-kicks","cadence":31}', "text/plain");
  await attempt("/api/start", '{"preset":"bum-kicks"}', "text/plain");
  // Fifteen wrong tokens: a try at locking the coach's own address out.
  for (let i = 0; i < 15; i++) await attempt("/api/cadence", '{"spm":30}', "application/json", wrong);
  // A form posts without asking (text/plain, crafted to look like JSON).
  const frame = document.createElement("iframe"); frame.name = "sink"; document.body.appendChild(frame);
  const form = document.createElement("form");
  form.method = "POST"; form.action = target + "//api/cadence"; form.enctype = "text/plain"; form.target = "sink";
  const input = document.createElement("input"); input.name = '{"spm":30,"x":"'; input.value = '"}';
  form.appendChild(input); document.body.appendChild(form); form.submit();
  // A WebSocket, with a guessed token and with none.
  for (const q of ["?token=0123456789abcdef0123456789abcdef", ""]) {
    await new Promise(done => {
      const ws = new WebSocket(target.replace("http:", "ws:") + "//api/events" + q);
      ws.onopen = () => { sent.push("ws OPEN"); ws.close(); done(); };
      ws.onerror = () => { sent.push("ws refused"); done(); };
    });
  }
  await new Promise(r => setTimeout(r, 1000));
  document.title = "done " + sent.filter(s => s === "ws OPEN").length;
}
go();
</script></body></html>"""


def cross(url):
    parts = urllib.parse.urlparse(url)
    target = "http://%s" % parts.netloc
    before = api_status(url)
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "evil.html"), "w") as f:
        f.write(EVIL)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=folder, **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    evil = "http://localhost:%d/evil.html?t=%s" % (server.server_address[1], urllib.parse.quote(target))
    driver = browser()
    try:
        driver.get(evil)
        WebDriverWait(driver, 60).until(lambda d: d.title.startswith("done"))
        if driver.title != "done 0":
            fail("a WebSocket from another origin opened: " + driver.title)
        ok("the other origin's page ran its %s" % driver.title)
        after = api_status(url)
        if after["target"] != before["target"] or after["state"] in ("stopping", "finished", "idle"):
            fail("the other page acted: cadence %s -> %s, state %s" % (before["target"], after["target"], after["state"]))
        ok("nothing changed: cadence %s, state %s" % (after["target"], after["state"]))
        # The coach's own page, from the same address, is not locked out.
        driver.get(url)
        wait = WebDriverWait(driver, 20)
        text = lambda id: driver.find_element(By.ID, id).text
        wait.until(lambda d: text("conn") == "live")
        wait.until(lambda d: text("cadence").replace(".", "").isdigit())
        start = float(text("cadence"))
        driver.find_element(By.XPATH, "//button[text()='+1']").click()
        wait.until(lambda d: float(text("cadence")) == start + 1)
        ok("the coach's page still steers: %s -> %s spm" % (start, text("cadence")))
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    if sys.argv[1] == "states":
        states(sys.argv[2], sys.argv[3])
    else:
        cross(sys.argv[2])
