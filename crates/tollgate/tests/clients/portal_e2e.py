"""The admin portal in a real browser: Debian's Chromium, driven by Playwright.

Usage: portal_e2e.py ADMIN_BASE_URL PUBLIC_BASE_URL SCREENSHOT_DIR

The server is a fresh `--demo` one (admin / admin holds the admin role),
signing with ES256 (so that its keys can be rotated from the portal).
Walks through what an operator does, checking each step, and saves a
screenshot of each main page into SCREENSHOT_DIR (docs/screenshots/):
login, overview, principals, principal, secret-once, signing-keys, audit.

Throughout, the browser must report no Content-Security-Policy violation
and no script error on any page. Playwright never downloads a browser here:
it launches /usr/bin/chromium (TOLLGATE_TEST_CHROMIUM to override).
"""

import json
import os
import sys
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("TOLLGATE_TEST_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 860}
GENERIC = "The name or password is not right."
XSS_NAME = "<script>alert(1)</script>"
CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

# Collects every CSP violation the page reports, from before its first script.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


class Check:
    """What went wrong, collected; the run fails at the end if anything did."""

    def __init__(self):
        self.failures = []

    def __call__(self, condition, what):
        if condition:
            print(f"ok   {what}")
        else:
            print(f"FAIL {what}")
            self.failures.append(what)


def post_json(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def main() -> int:
    admin, public, shots = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"), sys.argv[3]
    os.makedirs(shots, exist_ok=True)
    check = Check()
    console_problems = []
    dialogs = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport=VIEWPORT)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=admin)
        context.add_init_script(WATCH_CSP)
        page = context.new_page()

        def on_console(message):
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                console_problems.append(f"{page.url}: {text}")

        def on_dialog(dialog):
            # The portal asks before revoking; anything else is a surprise
            # (an injected alert(1), say).
            dialogs.append(dialog.message)
            dialog.accept()

        page.on("console", on_console)
        page.on("pageerror", lambda error: console_problems.append(f"{page.url}: script error {error}"))
        page.on("dialog", on_dialog)

        def visited(name):
            """After each page: no CSP violation reported by the page itself."""
            violations = page.evaluate("window.__csp || []")
            check(violations == [], f"{name}: no CSP violation reported ({violations})")

        def shoot(name):
            page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)

        # --- Sign-in: the headers, a wrong password, an unknown name, the right one.
        response = page.goto(f"{admin}/login")
        check(response.status == 200, "the sign-in page loads")
        check(response.headers.get("content-security-policy") == CSP, "the sign-in page carries the CSP")
        check(response.headers.get("x-frame-options") == "DENY", "and X-Frame-Options: DENY")
        visited("login")
        shoot("login")

        for name, password in [("admin", "wrong password"), ("nobody-at-all", "admin")]:
            page.fill("#name", name)
            page.fill("#password", password)
            with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as info:
                page.click("button[type=submit]")
            page.wait_for_load_state()
            check(info.value.status == 401, f"a wrong sign-in ({name}) is refused with 401")
            check(page.locator(".flash-error").inner_text().strip() == GENERIC, f"with the one generic message ({name})")
            visited("login (refused)")

        page.fill("#name", "admin")
        page.fill("#password", "admin")
        page.click("button[type=submit]")
        page.wait_for_url(f"{admin}/")
        check(page.locator("h1").inner_text() == "Overview", "the right password signs in to the overview")
        cookie = next((c for c in context.cookies() if c["name"] == "tollgate_portal"), None)
        check(cookie is not None and cookie["httpOnly"], "the session cookie is HttpOnly")
        check(cookie is not None and cookie["sameSite"] == "Strict", "the session cookie is SameSite=Strict")
        visited("overview")

        # --- A form of another site posting to the portal is refused. The
        # pages are served by the test itself (Playwright answers for them),
        # in the signed-in browser: one on another site (its request carries
        # no session cookie, SameSite=Strict, and Sec-Fetch-Site says
        # cross-site), one on the same host but another port (same-site, so
        # the cookie does go along: the origin checks refuse it).
        for other in ["http://evil.example", public]:
            forger = context.new_page()
            forger.route(f"{other}/forge", lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                body=(
                    f'<form id="f" method="post" action="{admin}/principals">'
                    '<input name="name" value="forged-by-another-site"></form>'
                ),
            ))
            forger.goto(f"{other}/forge")
            with forger.expect_response(lambda r: r.url == f"{admin}/principals") as forged:
                forger.evaluate("document.getElementById('f').submit()")
            check(forged.value.status == 403, f"a form post from {other} is refused ({forged.value.status})")
            forger.close()
        page.goto(f"{admin}/principals?name=forged")
        check(page.locator("#results tbody tr").count() == 0, "and made nothing")

        # --- Create a principal.
        page.click("text=New principal")
        page.wait_for_url(f"{admin}/principals/new")
        visited("new principal")
        page.fill("#name", "e2e-service")
        page.fill("#roles", "reader, writer")
        page.fill("#realm", "Partner")
        page.fill("#attributes", "domain=/partners\ncid=42")
        page.click("button:has-text('Create principal')")
        page.wait_for_load_state()
        check(page.locator("h1").inner_text() == "e2e-service", "a principal is created and shown")
        check("Principal created." in page.locator("#notice").inner_text(), "with a notice saying so")
        principal_url = page.url.split("?")[0]
        visited("principal")

        # --- A principal whose name is markup shows as text.
        page.goto(f"{admin}/principals/new")
        page.fill("#name", XSS_NAME)
        page.click("button:has-text('Create principal')")
        page.wait_for_load_state()
        check(page.locator("h1").inner_text() == XSS_NAME, "a name made of markup shows as text")
        page.goto(f"{admin}/principals?name=%3C")
        check(page.locator("#results a").first.inner_text() == XSS_NAME, "also in the list of principals")
        check(dialogs == [], f"and no script of it ran ({dialogs})")
        visited("principals (markup name)")

        # --- The principals page (searching by prefix).
        page.goto(f"{admin}/principals")
        page.fill("#name", "e2e")
        page.click("button:has-text('Search')")
        page.wait_for_load_state()
        names = page.locator("#results tbody a").all_inner_texts()
        check(names == ["e2e-service"], f"a search by name prefix finds the principal ({names})")
        page.goto(f"{admin}/principals")
        visited("principals")
        shoot("principals")

        # --- Issue an access key: the secret, shown once, no-store.
        page.goto(principal_url)
        with page.expect_response(lambda r: r.url.endswith("/access-keys") and r.request.method == "POST") as made:
            page.click("button:has-text('Create access key')")
        page.wait_for_load_state()
        check(made.value.headers.get("cache-control") == "no-store", "the page with the secret is no-store")
        access_key = page.input_value("#access-key")
        secret = page.input_value("#secret")
        check(len(access_key) == 40 and len(secret) == 48, "an access key and its secret are shown")
        page.click("button[data-copy=secret]")
        page.wait_for_function(
            "[...document.querySelectorAll('[data-copy-status]')].some(s => s.textContent.length > 0)"
        )
        copied = page.evaluate("navigator.clipboard.readText()")
        check(copied == secret, "the copy button copies the secret")
        visited("secret")
        shoot("secret-once")

        status, jwt = post_json(f"{public}/login", {"accessKey": access_key, "secret": secret})
        check(status == 201 and jwt.count(".") == 2, f"the shown secret logs in with contract C ({status})")

        # A reload sends the form again: no second key, and no secret.
        page.reload()
        page.wait_for_load_state()
        body = page.content()
        check(secret not in body, "a reload does not show the secret again")
        check(page.locator("#secret").count() == 0, "nor any new secret")
        check("sent already" in page.locator("#notice").inner_text(), "it says the form was sent already")
        rows = page.locator("#keys tbody tr:has(code)").all_inner_texts()
        access_rows = [row for row in rows if access_key in row]
        check(len(access_rows) == 1, "and the key was made once")
        # Its last use shows (written in the background about once a second).
        for _ in range(50):
            page.goto(principal_url)
            last_used = page.locator("tr", has_text=access_key).locator("td:nth-child(4)").inner_text()
            if last_used != "never":
                break
            page.wait_for_timeout(200)
        check(last_used.endswith("UTC"), f"the key's last use is shown ({last_used})")
        check(secret not in page.content(), "the principal's page never shows the secret")
        visited("principal after the secret")
        shoot("principal")

        # --- An API key expiring in 3 days (shown once, like the secret).
        page.fill("#apikey-days", "3")
        page.click("button:has-text('Issue API key')")
        page.wait_for_load_state()
        check(len(page.input_value("#api-key")) == 24, "an API key is issued and shown once")
        page.click("text=Done: back to")
        page.wait_for_load_state()

        # --- A state change takes effect (htmx swaps the keys section).
        row = page.locator("tr", has_text=access_key)
        row.locator("select[name=state]").select_option("pending")
        row.locator("button:has-text('Set state')").click()
        page.wait_for_function(
            "(key) => [...document.querySelectorAll('#keys tr')].some("
            "r => r.textContent.includes(key) && r.querySelector('.badge-pending'))",
            arg=access_key,
        )
        check("state changed" in page.locator("#notice").inner_text(), "the state change is confirmed")
        status, _ = post_json(f"{public}/login", {"accessKey": access_key, "secret": secret})
        check(status == 401, f"a pending key no longer logs in ({status})")
        visited("principal after a state change")

        # --- Revoke it (the portal asks first).
        row = page.locator("tr", has_text=access_key)
        row.locator("button:has-text('Revoke')").click()
        page.wait_for_function(
            "(key) => [...document.querySelectorAll('#keys tr')].some("
            "r => r.textContent.includes(key) && r.querySelector('.badge-revoked'))",
            arg=access_key,
        )
        check(any("Revoke access key" in message for message in dialogs), "revoking asks for confirmation")

        # --- Signing keys and the audit log.
        page.goto(f"{admin}/signing-keys")
        check(page.locator("h1").inner_text() == "Signing keys", "the signing keys page loads")
        before = page.locator("tbody tr").count()
        page.click("button:has-text('Rotate signing key')")
        page.wait_for_url(f"{admin}/signing-keys?notice=rotated")
        check(page.locator("tbody tr").count() == before + 1, "a rotation adds a key")
        check(page.locator("tbody .badge-pending").count() == 1, "published, not signing yet")
        check(any("Rotate" in message for message in dialogs), "rotating asks for confirmation")
        visited("signing keys")
        shoot("signing-keys")

        page.goto(f"{admin}/audit")
        page.select_option("#action", "accesskey.state")
        page.fill("#actor", "admin")
        page.click("button:has-text('Filter')")
        page.wait_for_load_state()
        actions = page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        check(len(actions) == 2 and set(actions) == {"accesskey.state"}, f"the audit log filters by action ({actions})")
        actors = set(page.locator("tbody tr td:nth-child(2)").all_inner_texts())
        check(actors == {"admin"}, f"the portal's actions are recorded with the admin as actor ({actors})")
        page.goto(f"{admin}/audit")
        visited("audit")
        shoot("audit")

        # The overview, now that there is something to count.
        page.goto(f"{admin}/")
        check(page.locator("#expiring-title + .stat").inner_text() == "1", "the API key expires within 7 days")
        visited("overview after the changes")
        shoot("overview")

        # --- Sign out: the session is gone.
        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{admin}/login?notice=signed-out")
        page.goto(f"{admin}/")
        check(page.url.startswith(f"{admin}/login"), "after signing out, pages ask to sign in again")
        visited("signed out")

        browser.close()

    check(console_problems == [], f"the console reported no CSP violation or script error: {console_problems}")
    print(f"{len(check.failures)} failed" if check.failures else "all portal checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
