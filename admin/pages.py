"""The console's HTML: three small pages, every value escaped, no inline script or
style (the CSP forbids both); `admin.js` does the WebAuthn ceremonies and the buttons.

What staff see before a grant is metadata needed to file a request (an account's id,
name, plan and status) and their own requests; nothing of any customer's content.
"""

from __future__ import annotations

from html import escape

from sqlalchemy import RowMapping

from audora.platform import ids
from audora.platform.staff.accounts import StaffSession
from audora.tenants.staff_access.access import MAX_MINUTES, SCOPES, AccessRequestRecord


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · Audora staff</title>"
        '<script src="/admin/static/admin.js" defer></script></head>'
        f"<body><h1>{escape(title)}</h1>{body}"
        "<p id=status role=status aria-live=polite></p></body></html>"
    )


def login_page() -> str:
    return _page(
        "Staff sign-in",
        "<form id=sign-in>"
        "<label>Email <input id=email name=email type=email autocomplete=username required>"
        "</label><label>Password <input id=password name=password type=password "
        "autocomplete=current-password required></label>"
        "<button id=sign-in-button type=submit>Sign in with security key</button></form>",
    )


def enroll_page(token: str, email: str) -> str:
    return _page(
        "Staff enrollment",
        f"<p>Enrolling <b>{escape(email)}</b>: choose a password, then touch your "
        "security key.</p>"
        f"<form id=enroll data-token='{escape(token, quote=True)}'>"
        "<label>Password <input id=password name=password type=password "
        "autocomplete=new-password minlength=12 required></label>"
        "<button id=enroll-button type=submit>Register security key</button></form>",
    )


def _request_row(record: AccessRequestRecord) -> str:
    request_id = ids.encode(ids.Kind.ACCESS_REQUEST, record.id)
    grant = "-"
    action = ""
    if record.grant_id is not None:
        grant_id = ids.encode(ids.Kind.ACCESS_GRANT, record.grant_id)
        if record.grant_ended_at is None:
            grant = f"live until {record.grant_expires_at:%Y-%m-%d %H:%M} UTC"
            action = f"<button data-action=end data-grant='{grant_id}'>End access</button>"
        else:
            grant = f"ended ({(record.grant_end_reason or '').lower()})"
    elif record.status == "APPROVED":
        action = f"<button data-action=activate data-request='{request_id}'>Activate</button>"
    return (
        f"<tr data-request-row='{request_id}'><td>{request_id}</td>"
        f"<td>{ids.encode(ids.Kind.ACCOUNT, record.account_id)}</td>"
        f"<td>{escape(record.ticket)}</td><td>{escape(', '.join(record.scope))}</td>"
        f"<td>{record.requested_minutes}</td>"
        f"<td class=request-status>{escape(record.status)}</td>"
        f"<td>{escape(grant)}</td><td>{action}</td></tr>"
    )


def home_page(
    session: StaffSession, tenants: list[RowMapping], requests: list[AccessRequestRecord]
) -> str:
    tenant_rows = "".join(
        f"<tr><td>{ids.encode(ids.Kind.ACCOUNT, t['id'])}</td><td>{escape(t['name'])}</td>"
        f"<td>{escape(t['plan'])}</td><td>{escape(t['status'])}</td></tr>"
        for t in tenants
    )
    scope_boxes = "".join(
        f"<label><input type=checkbox name=scope value={s}> {s.lower().replace('_', ' ')}</label>"
        for s in SCOPES
    )
    request_rows = "".join(_request_row(r) for r in requests)
    return _page(
        "Staff console",
        f"<p>Signed in as {escape(session.full_name)} ({escape(session.email)}). "
        "<button id=sign-out>Sign out</button></p>"
        "<p><a href='/admin/incidents'>Incidents</a></p>"
        "<h2>Accounts</h2><table id=tenants><tr><th>account</th><th>name</th>"
        f"<th>plan</th><th>status</th></tr>{tenant_rows}</table>"
        "<h2>Request access</h2><form id=request-access>"
        "<label>Account id <input id=account-id name=accountId required></label>"
        "<label>Reason <textarea id=reason name=reason required></textarea></label>"
        "<label>Ticket <input id=ticket name=ticket required></label>"
        f"<fieldset><legend>Data (read only)</legend>{scope_boxes}</fieldset>"
        f"<label>Minutes <input id=minutes name=minutes type=number min=1 max={MAX_MINUTES} "
        "value=60 required></label><button type=submit>Request</button></form>"
        "<h2>Your requests</h2><table id=requests><tr><th>request</th><th>account</th>"
        "<th>ticket</th><th>scope</th><th>minutes</th><th>status</th><th>grant</th><th></th>"
        f"</tr>{request_rows}</table>"
        "<section id=grant hidden><h2>Read under the grant</h2>"
        "<p>Every query is recorded in the customer's audit log.</p>"
        "<textarea id=query rows=6 cols=80></textarea>"
        "<button id=run-query>Run</button><pre id=result></pre></section>",
    )
