"""Well-known product names written the way their makers write them.

Speech recognition cases a name by what its decoder happened to pick: the same tiny.en
model writes "Stripe" on one CPU and "stripe" on another (CTranslate2 picks its int8
kernels by instruction set, and the scores differ in the last bits). A PRD that says
"payments go through stripe" reads as careless, so the names a client call is likely to
mention are put back in their own casing before the documents are written.

Names that are also plain English words ("stripe", "slack", "zoom") are cased only where
the words around them make them a product: after "through", "via", "with", "using",
"on", "into", "in" or "from", or before "account", "API", "payments" and the like. "A
blue stripe" and "pinch to zoom" stay as they were said.
"""

from __future__ import annotations

import re

# Devices and operating systems: what an app runs on, never an integration.
PLATFORMS = ("iOS", "iPhone", "iPad", "Android")

# Services a project connects to. Never ordinary words: cased wherever they appear.
SERVICES = (
    "PayPal", "Shopify", "Salesforce", "HubSpot", "QuickBooks", "Xero", "Mailchimp",
    "Twilio", "Zapier", "Figma", "Airtable", "Webflow", "WordPress", "WooCommerce",
    "Magento", "Firebase", "Supabase", "Netlify", "Vercel", "GitHub", "GitLab", "Jira",
    "Trello", "Asana", "Zendesk", "SendGrid", "Braintree", "Klarna", "Adyen",
    "WhatsApp", "YouTube", "Instagram", "TikTok",
    "LinkedIn", "Facebook", "Google", "Squarespace", "Wix", "Calendly",
)  # fmt: skip

# Services that are also ordinary words: cased only in a product's context.
# "Square" is left out: "square feet" and "back to square one" are said far more often.
AMBIGUOUS = ("Stripe", "Slack", "Zoom")

_BEFORE = re.compile(
    r"\b(?:through|via|with|using|use|on|into|in|from)\s+(?:the\s+|our\s+|their\s+)?$",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"\s+(?:account|accounts|api|apis|payments?|checkout|integration|dashboard|webhooks?|"
    r"terminal|workspace|channel|meeting|subscription|connect|keys?)\b",
    re.IGNORECASE,
)
_ANYWHERE = re.compile(r"\b(?:" + "|".join(PLATFORMS + SERVICES) + r")\b", re.IGNORECASE)
_AMBIGUOUS = re.compile(r"\b(?:" + "|".join(AMBIGUOUS) + r")\b", re.IGNORECASE)
_CANONICAL = {name.lower(): name for name in PLATFORMS + SERVICES + AMBIGUOUS}
_SERVICE = re.compile(r"\b(?:" + "|".join(SERVICES + AMBIGUOUS) + r")\b")


def cased(text: str) -> str:
    """`text` with the product names it mentions in their makers' casing."""

    def canonical(m: re.Match[str]) -> str:
        return _CANONICAL[m.group(0).lower()]

    def in_context(m: re.Match[str]) -> str:
        if _BEFORE.search(m.string, 0, m.start()) or _AFTER.match(m.string, m.end()):
            return canonical(m)
        return m.group(0)

    return _AMBIGUOUS.sub(in_context, _ANYWHERE.sub(canonical, text))


def services(text: str) -> list[str]:
    """The services `text` names, once `cased`: the integrations a call asks for."""
    return _SERVICE.findall(text)
