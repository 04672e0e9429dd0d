"""The runner's cadence on the coach's page, in a real headless Chromium at phone size (390x844).

Usage: remote_sensor.py URL SCREENSHOT.png EXPECTED [ID]
Waits until the page's runner line (#runner, or the line with id ID: #squad for --link) reads EXPECTED, a regular expression the whole
line must match (an empty EXPECTED: until
the line is hidden, as without a sensor, checked after the status has moved on twice), then
checks it sits beside the target in the first screen, nothing scrolls sideways, the console
is clean, and saves a screenshot. Prints one line per check and exits 1 on the first that
fails. Run by Tests/StrideCueALSATests/SensorCommandTests.swift, which drives the footpod.
"""
import re
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from phone import check_console_clean, check_no_sideways_scroll, fail, phone_browser


def main(url, screenshot, expected, line="runner"):
    driver = phone_browser()
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 20)
        text = lambda id: driver.find_element(By.ID, id).text
        wait.until(lambda d: text("conn") == "live")
        wait.until(lambda d: text("cadence").replace(".", "").isdigit())
        runner = driver.find_element(By.ID, line)
        if expected:
            try:
                wait.until(lambda d: re.fullmatch(expected, runner.text))
            except Exception:
                fail("the %s line reads %r, not %r" % (line, runner.text, expected))
            print("ok " + line + " " + runner.text + " (" + runner.get_attribute("class") + ")")
            box = runner.rect
            target = driver.find_element(By.CSS_SELECTOR, ".big").rect
            if not (box["y"] > target["y"] and box["y"] + box["height"] <= 844):
                fail("the %s line is not under the cadence in the first screen: %s, cadence %s" % (line, box, target))
            print("ok beside the target, in the first screen")
        else:
            # Two status updates after the page loaded, still nothing shown.
            for _ in range(2):
                before = text("clock") + text("step")
                wait.until(lambda d: text("clock") + text("step") != before)
            if runner.is_displayed() or runner.text:
                fail("a %s line where there should be none: %r" % (line, runner.text))
            print("ok no %s line" % line)
        check_no_sideways_scroll(driver)
        check_console_clean(driver)
        driver.save_screenshot(screenshot)
        print("ok screenshot " + screenshot)
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
