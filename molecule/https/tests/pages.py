"""Page objects of flaskr's pages for the browser test.

Each page knows its path and its elements; an action fills in and submits the
page's real form (hidden CSRF token included) and returns the page the
browser lands on. Every page is screenshotted as it arrives.
"""

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

COUNTER = re.compile(r"This page has been seen (\d+) times")


class Page:
    path = "/"
    title = "Posts"  # the document's title before " - Flaskr", a pattern

    def __init__(self, browser, base_url, shots):
        self.browser, self.base_url, self.shots = browser, base_url, shots

    @classmethod
    def open(cls, browser, base_url, shots):
        browser.get(base_url + cls.path)
        return cls(browser, base_url, shots).arrived()

    def arrived(self):
        """Check this is the page the browser shows, and screenshot it."""
        WebDriverWait(self.browser, 10).until(
            lambda browser: re.fullmatch(f"{self.title} - Flaskr", browser.title),
            f"expected {type(self).__name__}, the browser shows {self.browser.title!r}",
        )
        self.shots.take(self.browser, type(self).__name__)
        return self

    def leave(self, submit):
        """Click submit and wait until the browser has left this page: until
        then, what the browser shows is still this page."""
        html = self.browser.find_element(By.TAG_NAME, "html")
        submit.click()
        WebDriverWait(self.browser, 10).until(expected_conditions.staleness_of(html))

    def go(self, page_class, submit):
        """Click submit, wait for the next page to load, return it."""
        self.leave(submit)
        return page_class(self.browser, self.base_url, self.shots).arrived()

    def fill(self, **fields):
        for name, value in fields.items():
            element = self.browser.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)

    def submit_button(self):
        return self.browser.find_element(By.CSS_SELECTOR, "form input[type=submit]")

    def submit(self, page_class, **fields):
        """Fill in the page's form, submit it, return the page it leads to."""
        self.fill(**fields)
        return self.go(page_class, self.submit_button())

    @property
    def heading(self):
        return self.browser.find_element(By.CSS_SELECTOR, "section.content h1").text

    @property
    def flashes(self):
        return [e.text for e in self.browser.find_elements(By.CLASS_NAME, "flash")]

    @property
    def counter(self):
        text = self.browser.find_element(By.CSS_SELECTOR, "footer.counter").text
        match = COUNTER.search(text)
        assert match, f"no page counter in {text!r}"
        return int(match.group(1))

    @property
    def user(self):
        """The logged-in user's name in the navigation, or None."""
        names = self.browser.find_elements(By.CSS_SELECTOR, "nav li span")
        return names[0].text if names else None

    def log_out(self):
        link = self.browser.find_element(By.LINK_TEXT, "Log Out")
        return self.go(IndexPage, link)


class RegisterPage(Page):
    path = "/auth/register"
    title = "Register"

    def register(self, username, password):
        return self.submit(LoginPage, username=username, password=password)


class LoginPage(Page):
    path = "/auth/login"
    title = "Log In"

    def log_in(self, username, password):
        return self.submit(IndexPage, username=username, password=password)


class IndexPage(Page):
    path = "/"
    title = "Posts"

    @property
    def posts(self):
        """(title, body) of each post on the page, newest first."""
        return [
            (
                post.find_element(By.CSS_SELECTOR, "header h1").text,
                post.find_element(By.CLASS_NAME, "body").text,
            )
            for post in self.browser.find_elements(By.CSS_SELECTOR, "article.post")
        ]

    def new_post(self):
        return self.go(CreatePage, self.browser.find_element(By.LINK_TEXT, "New"))

    def edit(self, title):
        post = self.browser.find_element(
            By.XPATH, f"//article[.//header//h1[text()={xpath_literal(title)}]]"
        )
        return self.go(UpdatePage, post.find_element(By.LINK_TEXT, "Edit"))


class CreatePage(Page):
    path = "/create"
    title = "New Post"

    def create(self, title, body):
        return self.submit(IndexPage, title=title, body=body)


class UpdatePage(Page):
    title = 'Edit ".*"'

    def save(self, title, body):
        return self.submit(IndexPage, title=title, body=body)

    def delete(self):
        """Click Delete and accept the browser's "Are you sure?" question."""
        html = self.browser.find_element(By.TAG_NAME, "html")
        self.browser.find_element(By.CSS_SELECTOR, "input.danger").click()
        alert = WebDriverWait(self.browser, 10).until(
            expected_conditions.alert_is_present()
        )
        question = alert.text
        alert.accept()
        WebDriverWait(self.browser, 10).until(expected_conditions.staleness_of(html))
        return question, IndexPage(self.browser, self.base_url, self.shots).arrived()


def xpath_literal(text):
    """text as an XPath string literal (it holds no double quote here)."""
    assert '"' not in text
    return f'"{text}"'
