"""Incidents (PROMISES R1, R3, R4, R5): recorded by staff through their phases, affected
owners told within 72 hours of confirmation, a report published within 30 days of
resolution, and every incident shown on the public status page.

`model.py` the vocabulary; `tables.py` the platform tables; `repository.py` the SQL;
`service.py` what staff do; `notify.py` the owners' mail; `alerts.py` the hourly
deadline alerts; `public.py` what the public may see; `pages.py` `/status`,
`/status.json` and `/status.atom`.
"""
