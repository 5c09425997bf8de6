"""Helpers for the browser tests that need no Playwright import (test modules skip without it)."""


def sign_in(page, site: str, user) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")
