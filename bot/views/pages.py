"""The web pages a person sees while installing Debrief: "Add to Slack", installed, and
what went wrong. Small HTML with its CSS inline (nothing loaded from elsewhere); every
value from outside is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

STYLE = """
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center;
         justify-content: center; background: #f4f1ec; color: #1d1c1d;
         font: 16px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
               sans-serif; }
  main { width: min(34rem, 92vw); background: #fff; border-radius: 14px;
         padding: 2.5rem 2.75rem; box-shadow: 0 1px 3px rgba(0,0,0,.08),
         0 12px 32px rgba(44,62,80,.12); }
  .brand { display: flex; align-items: center; gap: .6rem; margin-bottom: 1.75rem;
           font-weight: 700; letter-spacing: .01em; color: #2c3e50; }
  .mark { width: 2rem; height: 2rem; border-radius: 8px; background: #2c3e50;
          color: #fff; display: grid; place-items: center; font-size: 1.05rem; }
  h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .75rem; }
  p { margin: 0 0 1rem; color: #454245; }
  ul { margin: 0 0 1.5rem; padding-left: 1.2rem; color: #454245; }
  li { margin: .25rem 0; }
  code { background: #f4f1ec; border-radius: 4px; padding: .05rem .35rem;
         font-size: .92em; }
  .button { display: inline-flex; align-items: center; gap: .5rem; margin-top: .5rem;
            padding: .8rem 1.4rem; border-radius: 8px; background: #4a154b; color: #fff;
            text-decoration: none; font-weight: 700; }
  .button:hover { background: #611f69; }
  .note { margin-top: 1.5rem; font-size: .875rem; color: #696969; }
  .ok .mark { background: #2eb67d; }
  .failed .mark { background: #e01e5a; }
"""


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def _page(title: str, body: str, *, tone: str = "", mark: str = "D") -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)} · Debrief</title>
<style>{STYLE}</style>
</head>
<body>
<main class="{tone}">
  <div class="brand"><span class="mark" aria-hidden="true">{mark}</span>Debrief</div>
{body}
</main>
</body>
</html>
"""


def install_page(authorize_url: str) -> str:
    """"Add to Slack": what Debrief does, and the link to Slack's authorize page."""
    return _page("Add Debrief to Slack", f"""
  <h1>Learn from your work, together</h1>
  <p>Debrief lets your team log wins, opportunities and lessons as the work goes on,
     reflect in private, and take turns sharing one learning at the team meeting.</p>
  <ul>
    <li><code>/debrief</code> to log what happened, <code>/hope</code> to reflect</li>
    <li>Private stays private; anonymous stays anonymous</li>
    <li>Applaud each other with any emoji</li>
  </ul>
  <a class="button" id="add-to-slack" href="{escape(authorize_url)}">Add to Slack</a>
  <p class="note">You will choose the workspace and review what Debrief may do there
     before anything is installed.</p>""")


def installed_page(*, app_id: str | None, team_id: str | None, team_name: str | None,
                   org_wide: bool, enterprise_url: str | None) -> str:
    """Installed: where it is, and the way into Slack."""
    where = escape(team_name or "your workspace")
    if org_wide and enterprise_url and app_id:
        # An org-wide install is added to workspaces by an org admin, in Slack.
        link = f"{enterprise_url}manage/organization/apps/profile/{app_id}/workspaces/add"
        action, next_step = "Choose its workspaces", (
            "Org admins decide which workspaces of the organisation get Debrief.")
    else:
        query = urlencode({k: v for k, v in (("app", app_id), ("team", team_id)) if v})
        link = f"https://slack.com/app_redirect?{query}"
        action, next_step = "Open Debrief in Slack", (
            "Try <code>/debrief help</code> in any channel, or open Debrief's Home tab.")
    return _page("Debrief is installed", f"""
  <h1>Debrief is installed in {where}</h1>
  <p>{next_step}</p>
  <a class="button" id="open-slack" href="{escape(link)}">{action}</a>
  <p class="note">You can close this page.</p>""", tone="ok", mark="&#10003;")


# Why an install did not happen, as a person would put it: (status, title, explanation).
FAILURES: dict[str, tuple[int, str, str]] = {
    "access_denied": (403, "Debrief was not installed",
                      "The install was cancelled in Slack, so nothing was added to your "
                      "workspace."),
    "invalid_state": (400, "This install link has expired",
                      "Install links work once, for ten minutes, in the browser that "
                      "opened them. Nothing was installed."),
    "missing_code": (400, "Slack did not finish the install",
                     "The answer from Slack was incomplete, so nothing was installed."),
    "invalid_code": (400, "Slack did not confirm the install",
                     "Slack did not accept this install (the link may have been used "
                     "already), so nothing was installed."),
    "storage_error": (500, "We could not save the install",
                      "Something went wrong on our side and nothing was installed. "
                      "Please try again in a minute."),
}
# Bolt's reasons that mean the same to a person as an expired link.
FAILURES["invalid_browser"] = FAILURES["invalid_state"]
UNKNOWN_FAILURE = (400, "Debrief was not installed",
                   "Slack reported a problem, so nothing was installed.")


def install_failed_page(reason: str, install_path: str) -> Page:
    """What went wrong, and the way to start again."""
    status, title, explanation = FAILURES.get(reason, UNKNOWN_FAILURE)
    return Page(status, _page(title, f"""
  <h1>{escape(title)}</h1>
  <p>{escape(explanation)}</p>
  <a class="button" id="start-again" href="{escape(install_path)}">Start again</a>
  <p class="note">Reference: <code>{escape(reason)}</code></p>""", tone="failed", mark="!"))
