"""The console's Incidents section in a real headless Chromium (R1, R3, R5): a staff
member signs in with a security key, opens an incident with the form, moves it a phase,
posts a public update, confirms an affected account (its owner is emailed) and
publishes the report, all through the console's own script; the public status page then
shows it, without the private fields."""

from __future__ import annotations

import uuid

from playwright.async_api import expect
from sqlalchemy import Engine, text

from audora.platform.incidents import notify
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.staff.accounts import create_staff

from audora_testing import GraphQL, mail_text, read_mail, sign_up
from browser_authenticator import browser_authenticator

STAFF_PASSWORD = "an incident needs a key 9"  # pragma: allowlist secret
WHAT = "Recording file names of two calls were visible in a shared error page."


async def test_r1_r3_r5_an_incident_run_from_the_console_in_a_real_browser(
    console: str,
    runtime: Runtime,
    gql: GraphQL,
    stack: EmbeddedStack,
    superuser: Engine,
) -> None:
    owner = await sign_up(gql, "Browser Incident Studio")
    email = f"ic-{uuid.uuid4().hex[:8]}@audora.example"
    _, link = await create_staff(runtime, email, "Iris Incident")
    token = link.rsplit("/", 1)[1]

    async with browser_authenticator(pages_from=console) as browser:
        page = browser.page
        await page.goto(f"{console}/admin/enroll/{token}")
        await page.fill("#password", STAFF_PASSWORD)
        await page.click("#enroll-button")
        await page.wait_for_url(f"{console}/admin/login")
        await page.fill("#email", email)
        await page.fill("#password", STAFF_PASSWORD)
        await page.click("#sign-in-button")
        await page.wait_for_url(f"{console}/admin/")

        await page.click("a[href='/admin/incidents']")
        await page.wait_for_url(f"{console}/admin/incidents")
        form = page.locator("#open-incident")
        await form.locator("input[name=title]").fill("Error page leaked file names")
        await form.locator("select[name=severity]").select_option("SEV2")
        await form.locator("input[name=components][value=uploads]").check()
        await form.locator("textarea[name=message]").fill("We are looking into an error page.")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url(f"{console}/admin/incidents/inc_*")
        incident_id = page.url.rsplit("/", 1)[1]
        await expect(page.locator("#phase")).to_have_text("detection")

        await page.locator("#advance-phase textarea[name=note]").fill("error page disabled")
        await page.click("#advance-phase button[type=submit]")
        await expect(page.locator("#phase")).to_have_text("containment")

        await page.locator("#public-update select[name=status]").select_option("identified")
        await page.locator("#public-update textarea[name=message]").fill("Cause found.")
        await page.click("#public-update button[type=submit]")
        await expect(page.locator("#timeline")).to_contain_text("Cause found.")

        confirm = page.locator("#confirm")
        await confirm.locator("textarea[name=tenants]").fill(f" {owner['account']['id']} ")
        await confirm.locator("textarea[name=dataAffected]").fill(WHAT)
        await confirm.locator("textarea[name=actionsTaken]").fill("The page was removed.")
        await confirm.locator("button[type=submit]").click()
        await expect(page.locator("#affected")).to_contain_text(owner["account"]["id"])
        (message,) = await read_mail(stack.data_dir / "mail", owner["email"], notify.SUBJECT)
        assert WHAT in mail_text(message)

        await page.locator("#public-update select[name=status]").select_option("resolved")
        await page.locator("#public-update textarea[name=message]").fill("Service is back.")
        await page.click("#public-update button[type=submit]")
        await expect(page.locator("#timeline")).to_contain_text("Service is back.")
        await page.locator("#report textarea[name=markdown]").fill("# Error page\n\nWhat.")
        await page.click("#report button[type=submit]")
        await expect(page.locator("#timeline")).to_contain_text("report draft saved")
        await expect(page.locator("#report textarea[name=markdown]")).to_have_value(
            "# Error page\n\nWhat."
        )
        await page.click("#publish button[type=submit]")
        await expect(page.locator("#record")).to_contain_text("published")

        await page.goto(f"{console}/status")
        article = page.locator(f"article[id='{incident_id}']")
        await expect(article).to_contain_text("Error page leaked file names")
        await expect(article).to_contain_text("Cause found.")
        await expect(article).to_contain_text("Post-incident report")
        assert WHAT not in await page.content()
        assert owner["account"]["id"] not in await page.content()

    with superuser.connect() as conn:
        actions = (
            conn.execute(
                text(
                    "SELECT e.action FROM platform.staff_audit_events e "
                    "JOIN platform.staff_users u ON u.id = e.staff_id "
                    "WHERE e.target = :t AND u.email = :e ORDER BY e.seq"
                ),
                {"t": incident_id, "e": email},
            )
            .scalars()
            .all()
        )
    assert actions == [
        "incident.opened",
        "incident.phase_changed",
        "incident.updated",
        "incident.confirmed",
        "incident.notified",
        "incident.updated",
        "incident.report_saved",
        "incident.report_published",
    ]
