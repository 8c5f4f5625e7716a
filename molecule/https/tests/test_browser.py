"""The blog in a real browser (Debian's Chromium, headless, driven by
selenium through Debian's chromedriver), over HTTPS through the proxy, with
pebble's root trusted the way a user's machine trusts a root: in the
browser's certificate store, not by ignoring errors.

Screenshots of every page it reaches are kept in BERTH_ARTIFACTS (default:
artifacts/ in the repository), in browser/.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pages import IndexPage, LoginPage, RegisterPage
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
ARTIFACTS = Path(os.environ.get("BERTH_ARTIFACTS", ROOT / "artifacts")) / "browser"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class Screenshots:
    """Numbered PNGs of the pages, in the order the browser reached them."""

    def __init__(self, directory):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        self.directory, self.taken = directory, []

    def take(self, browser, name):
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        assert browser.save_screenshot(str(path)), path
        self.taken.append(path)


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    """Chromium with a home of its own, whose certificate store trusts
    pebble's root, and the domain resolved to the test host (as DNS would)."""
    home = tmp_path_factory.mktemp("home")
    store = f"sql:{home}/.pki/nssdb"
    (home / ".pki/nssdb").mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", store, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", store, "-n", "pebble root", "-t", "C,,",
         "-i", site["root"]],
        check=True,
    )  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root, in CI
        "--disable-dev-shm-usage",
        "--window-size=1000,800",
        f"--host-resolver-rules=MAP {site['domain']} {site['address']}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, env={**os.environ, "HOME": str(home)})
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots():
    return Screenshots(ARTIFACTS)


def test_a_new_user_writes_edits_and_deletes_a_post(browser, site, shots):
    base = f"https://{site['domain']}"
    username, password = f"reader{int(time.time())}", "correct horse battery"
    title, body = "Hello over HTTPS", "Written in a real browser."

    index = IndexPage.open(browser, base, shots)
    # The page is a secure context: the certificate was trusted, no
    # interstitial, and the session cookie can be Secure.
    assert browser.execute_script("return window.isSecureContext") is True
    assert index.user is None

    login = RegisterPage.open(browser, base, shots).register(username, password)
    assert isinstance(login, LoginPage)
    index = login.log_in(username, password)
    assert index.user == username
    cookie = browser.get_cookie("session")
    assert cookie["secure"] and cookie["httpOnly"], cookie

    index = index.new_post().create(title, body)
    assert index.posts[0] == (title, body)
    # The counter is Redis's, through the proxy: each load counts once.
    seen = index.counter
    browser.refresh()
    assert IndexPage(browser, base, shots).arrived().counter == seen + 1

    index = index.edit(title).save(title + " (edited)", body + " Then edited.")
    assert index.posts[0] == (title + " (edited)", body + " Then edited.")

    question, index = index.edit(title + " (edited)").delete()
    assert question == "Are you sure?"
    assert (title + " (edited)", body + " Then edited.") not in index.posts

    index = index.log_out()
    assert index.user is None
    assert browser.find_element(By.LINK_TEXT, "Log In")


def test_a_form_without_its_csrf_token_is_refused(browser, site, shots):
    # The token the real forms carry is what lets them in: the same login
    # form, its hidden token removed in the page, gets 400.
    login = LoginPage.open(browser, f"https://{site['domain']}", shots)
    browser.execute_script("document.querySelector('[name=csrf_token]').remove()")
    login.fill(username="nobody", password="nothing")
    login.leave(login.submit_button())
    assert (
        "The CSRF token is missing." in browser.find_element(By.TAG_NAME, "body").text
    )
    shots.take(browser, "CSRFRefused")


def test_the_pages_broke_no_policy_and_every_screenshot_was_kept(browser, shots):
    # The browser's console: a Content-Security-Policy violation (an inline
    # script, say) or a failed load would be a SEVERE entry. The CSRF test's
    # 400 is the one expected.
    severe = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "400" not in entry["message"]
    ]
    assert severe == []
    pages = {path.stem.split("-", 1)[1] for path in shots.taken}
    assert pages == {"IndexPage", "RegisterPage", "LoginPage", "CreatePage",
                     "UpdatePage", "CSRFRefused"}  # fmt: skip
    for path in shots.taken:
        assert path.stat().st_size > 5000, path  # a rendered page, not a blank one
    print(f"\nscreenshots: {shots.directory}")
