"""The coach's page in a real headless Chromium at phone size (390x844), driven by Selenium.

Usage: remote_page.py URL SCREENSHOT.png
URL is the one `stridecue play --remote` printed (with #token=...). Prints one line per check
and exits 1 on the first that fails. Run by Tests/StrideCueALSATests/RemotePageTests.swift.
"""
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from phone import check_console_clean, check_no_sideways_scroll, fail, phone_browser


def main(url, screenshot):
    driver = phone_browser()
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 20)
        text = lambda id: driver.find_element(By.ID, id).text
        # Loads from the token URL: the WebSocket is live and a cadence is shown.
        wait.until(lambda d: text("conn") == "live")
        wait.until(lambda d: text("cadence").replace(".", "").isdigit())
        print("ok loaded: live, cadence " + text("cadence"))
        width = driver.execute_script("return window.innerWidth")
        if width != 390:
            fail("viewport is %s px wide, not 390" % width)

        labels = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "[data-delta]")]
        if labels != ["−5", "−1", "+1", "+5"]:
            fail("tempo buttons are %s" % labels)
        print("ok buttons " + " ".join(labels))

        # The status moves on by itself (pushed over the WebSocket).
        before = text("step")
        wait.until(lambda d: text("step") != before)
        print("ok status updates: %r -> %r" % (before, text("step")))

        # +1 moves the cadence by one step per minute, from the first step not yet handed to ALSA.
        start = float(text("cadence"))
        driver.find_element(By.XPATH, "//button[text()='+1']").click()
        wait.until(lambda d: float(text("cadence")) == start + 1)
        print("ok +1: %s -> %s spm" % (start, text("cadence")))

        # The plan picture and its "now" marker.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plan svg")) == 1)
        marker = driver.find_element(By.ID, "marker")
        if not marker.is_displayed():
            fail("the now marker is hidden")
        print("ok plan picture with marker at " + marker.value_of_css_property("left"))

        cues = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#cues button")]
        library = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#library button")]
        if not library:
            fail("no drill library")
        print("ok cues %s, %d drills in the library" % (cues, len(library)))

        check_no_sideways_scroll(driver)
        check_console_clean(driver)
        driver.save_screenshot(screenshot)
        print("ok screenshot " + screenshot)
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
