"""What the browser tests share: headless Chromium (Debian's chromium and chromium-driver) at a
phone's size, 390x844 CSS pixels, and one-line results. Imported by the scripts beside it."""
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
