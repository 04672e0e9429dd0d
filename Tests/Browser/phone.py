"""What the browser tests share: headless Chromium (Debian's chromium and chromium-driver) at a
phone's size, 390x844 CSS pixels, and one-line results. Imported by the scripts beside it."""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def fail(message):
    print("FAIL " + message, flush=True)
    sys.exit(1)


def ok(message):
    print("ok " + message, flush=True)


def phone_browser(scale=2):
    """A headless Chromium that reports as a phone 390x844 CSS pixels wide at `scale` device
    pixels each, keeping the page's console messages for the scripts to check."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": scale, "mobile": True})
    return driver


def check_no_sideways_scroll(driver):
    """Fails when the page is wider than the phone's screen."""
    scroll = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if scroll[0] > scroll[1]:
        fail("scrolls sideways: %d px of content in %d px" % (scroll[0], scroll[1]))
    ok("no sideways scroll: %d <= %d" % (scroll[0], scroll[1]))


def check_console_clean(driver, but_refused_calls=False):
    """Fails on an error in the page's console; with `but_refused_calls`, the browser's own
    lines about API calls the server refused (as a test provokes) do not count."""
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
              and not (but_refused_calls and "/api/" in e.get("message", ""))]
    if errors:
        fail("console errors: " + json.dumps(errors))
    ok("no console errors but the refused calls" if but_refused_calls else "no console errors")
