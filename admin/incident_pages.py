"""The console's Incidents section: the list with a form to open one, and one incident's
page with its record (private fields included: staff only), its timeline and the forms
for each next step. Every value escaped; the forms are sent as JSON by `admin.js`."""

from __future__ import annotations

from datetime import datetime
from html import escape

from audora.admin.pages import _page
from audora.platform import ids
from audora.platform.incidents.model import (
    COMPONENTS,
    PHASES,
    Incident,
    Phase,
    PublicStatus,
    Severity,
)
from audora.platform.incidents.service import public_id


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "-"


def _options(values: list[str], selected: str | None = None) -> str:
    return "".join(
        f"<option value='{escape(v, quote=True)}'{' selected' if v == selected else ''}>"
        f"{escape(v)}</option>"
        for v in values
    )


def list_page(incidents: list[Incident]) -> str:
    rows = "".join(
        f"<tr data-incident-row='{public_id(i.id)}'>"
        f"<td><a href='/admin/incidents/{public_id(i.id)}'>{public_id(i.id)}</a></td>"
        f"<td>{escape(i.title)}</td><td>{i.severity.value}</td>"
        f"<td>{i.phase.value}</td><td>{i.public_status.value}</td>"
        f"<td>{'yes' if i.customer_data_involved else 'no'}</td><td>{_at(i.opened_at)}</td></tr>"
        for i in incidents
    )
    boxes = "".join(
        f"<label><input type=checkbox name=components value={key}> {escape(name)}</label>"
        for key, name in COMPONENTS.items()
    )
    return _page(
        "Incidents",
        "<p><a href='/admin/'>Console</a> · <a href='/status'>Public status page</a></p>"
        "<h2>Open an incident</h2>"
        "<form id=open-incident data-post='/admin/api/incidents' data-goto='/admin/incidents/'>"
        "<label>Title (public) <input name=title required maxlength=200></label>"
        f"<label>Severity <select name=severity>{_options([s.value for s in Severity])}"
        "</select></label>"
        f"<fieldset><legend>Affected components</legend>{boxes}</fieldset>"
        "<label>First public update <textarea name=message></textarea></label>"
        "<button type=submit>Open</button></form>"
        "<h2>All incidents</h2><table id=incidents><tr><th>incident</th><th>title</th>"
        "<th>severity</th><th>phase</th><th>public status</th><th>customer data</th>"
        f"<th>opened</th></tr>{rows}</table>",
    )


def _tenants(incident: Incident) -> str:
    rows = "".join(
        f"<tr><td>{ids.encode(ids.Kind.ACCOUNT, t.account_id)}</td><td>{_at(t.notify_due)}</td>"
        f"<td>{_at(t.notified_at)}</td><td>{t.notified_owners}</td></tr>"
        for t in incident.tenants
    )
    return (
        "<table id=affected><tr><th>account</th><th>tell by</th><th>told</th><th>owners</th>"
        f"</tr>{rows}</table>"
    )


def _forms(incident: Incident, base: str) -> str:
    forms = []
    position = PHASES.index(incident.phase)
    if position + 1 < len(PHASES):
        following = PHASES[position + 1].value
        forms.append(
            f"<h2>Next phase</h2><form id=advance-phase data-post='{base}/phase'>"
            f"<input type=hidden name=phase value={following}>"
            "<label>Remark (private) <textarea name=note></textarea></label>"
            f"<button type=submit>Move to {escape(following)}</button></form>"
        )
    statuses = [""] + (
        [] if incident.public_status is PublicStatus.RESOLVED else [s.value for s in PublicStatus]
    )
    forms.append(
        f"<h2>Public update</h2><form id=public-update data-post='{base}/update'>"
        f"<label>Status <select name=status>{_options(statuses)}</select></label>"
        "<label>Message (public) <textarea name=message required></textarea></label>"
        "<button type=submit>Post update</button></form>"
        f"<h2>Private note</h2><form id=note data-post='{base}/note'>"
        "<label>Note <textarea name=note required></textarea></label>"
        "<button type=submit>Add to timeline</button></form>"
    )
    if incident.phase is not Phase.CLOSED:
        # Once confirmed, the same form adds accounts found affected since: only their
        # owners are emailed; the texts start from what was recorded.
        again = incident.confirmed_at is not None
        forms.append(
            (
                "<h2>Add affected accounts</h2>"
                if again
                else "<h2>Confirm customer data involvement</h2>"
            )
            + f"<form id=confirm data-post='{base}/confirm'>"
            "<label>Affected accounts (acc_ ids, space or comma separated) "
            "<textarea name=tenants data-list required></textarea></label>"
            "<label>What data, and how <textarea name=dataAffected required>"
            f"{escape(incident.data_affected or '')}</textarea></label>"
            "<label>What was done <textarea name=actionsTaken required>"
            f"{escape(incident.actions_taken or '')}</textarea></label>"
            "<button type=submit>"
            + ("Add and email their owners" if again else "Confirm and email the owners")
            + "</button></form>"
        )
    if any(t.notified_at is None for t in incident.tenants):
        forms.append(
            f"<form id=notify data-post='{base}/notify'>"
            "<button type=submit>Email owners not yet told</button></form>"
        )
    if incident.report_published_at is None:
        forms.append(
            f"<h2>Post-incident report</h2><form id=report data-post='{base}/report'>"
            "<label>Markdown (public once published) <textarea name=markdown rows=12 "
            f"required>{escape(incident.report_markdown or '')}</textarea></label>"
            "<button type=submit>Save draft</button></form>"
            f"<form id=publish data-post='{base}/publish'>"
            "<button type=submit>Publish the saved report</button></form>"
        )
    return "".join(forms)


def detail_page(incident: Incident) -> str:
    base = f"/admin/api/incidents/{public_id(incident.id)}"
    timeline = "".join(
        f"<tr><td>{_at(e.at)}</td><td>{escape(e.actor)}</td><td>{escape(e.kind)}</td>"
        f"<td>{escape(e.phase.value if e.phase else '')}</td>"
        f"<td>{escape(e.public_status.value if e.public_status else '')}</td>"
        f"<td>{'public' if e.public else 'private'}</td><td>{escape(e.message)}</td></tr>"
        for e in incident.timeline
    )
    report = (
        f"published {_at(incident.report_published_at)}"
        if incident.report_published_at
        else f"due {_at(incident.report_due)}"
        if incident.report_due
        else "due 30 days after resolution"
    )
    return _page(
        f"Incident: {incident.title}",
        "<p><a href='/admin/incidents'>All incidents</a></p>"
        f"<dl id=record><dt>Id</dt><dd>{public_id(incident.id)}</dd>"
        f"<dt>Severity</dt><dd>{incident.severity.value}</dd>"
        f"<dt>Phase</dt><dd id=phase>{incident.phase.value}</dd>"
        f"<dt>Public status</dt><dd>{incident.public_status.value}</dd>"
        f"<dt>Components</dt><dd>{escape(', '.join(incident.components))}</dd>"
        f"<dt>Opened</dt><dd>{_at(incident.opened_at)}</dd>"
        f"<dt>Customer data involved</dt><dd>{'yes' if incident.customer_data_involved else 'no'}"
        f"</dd><dt>Confirmed</dt><dd>{_at(incident.confirmed_at)}</dd>"
        f"<dt>Data affected (private)</dt><dd>{escape(incident.data_affected or '-')}</dd>"
        f"<dt>Actions taken (private)</dt><dd>{escape(incident.actions_taken or '-')}</dd>"
        f"<dt>Resolved</dt><dd>{_at(incident.resolved_at)}</dd>"
        f"<dt>Report</dt><dd>{report}</dd></dl>"
        f"<h2>Affected accounts</h2>{_tenants(incident)}"
        f"{_forms(incident, base)}"
        "<h2>Timeline</h2><table id=timeline><tr><th>at</th><th>who</th><th>what</th>"
        f"<th>phase</th><th>status</th><th></th><th>message</th></tr>{timeline}</table>",
    )
