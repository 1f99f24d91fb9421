"""The example interview file `followup add --example` writes: dated from `now`. Pure.

Dated relative to the moment it is written, so `add --from` on it plans notes
that are due, not late; every address is at a reserved example domain
(RFC 2606), so nothing drafted from it can reach a real person.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

EXAMPLE_TEXT = """\
# An interview for `followup add --from {path}`.
# Written by `followup add --example` on {written}; edit it, then add it.
# Only company, role, interview.at and one person are required.

company = "Acme Analytics"
role = "Data Engineer"
# Other domains the company writes from: a careers site, its applicant
# tracking system. Replies from these count as the company answering.
domains = ["careers.example.org"]

[interview]
at = "{at}"          # local time (schedule.timezone), or with an offset
duration = 90                    # minutes
kind = "onsite"                  # phone | video | onsite
round = 1                        # later rounds: followup add --application ID --from ...
decision_by = "{decision}"       # the date they said they would decide ("three weeks")
final = false                    # true for the final round: reminds you to alert references
learned = "the team's move from batch pipelines to streaming"  # follows "Learning about ..."
highlight = "I cut a nightly ETL job from six hours to forty minutes at my last company"
note = "Parking: visitor lot B"  # for you only; never put in a draft

[[interviewers]]
name = "Jane Doe"
email = "jane.doe@example.com"
discussed = "how the team tests its data contracts"

[[interviewers]]
name = "Raj Patel"
email = "raj.patel@example.com"
discussed = "on-call for the ingestion service"

[[interviewers]]
name = "Zoë Müller"
email = "zoe.mueller@example.com"
discussed = "the migration to Apache Flink"

[hiring_manager]
name = "Maria Garcia"
email = "maria.garcia@example.com"
discussed = "the roadmap for the next two quarters"

[recruiter]
name = "Bob Smith"
email = "bob@example.net"
agency = true                    # an agency recruiter is copied on every written follow-up
"""


def example_interview(now: datetime, tz: tzinfo, path: str) -> str:
    """The example file's text: an interview that ended an hour or so before `now`."""
    # Started at the last whole hour at least 2.5 h ago: over (90 min) and well within 24 h.
    start = (now.astimezone(tz) - timedelta(hours=2, minutes=30)).replace(
        minute=0, second=0, microsecond=0
    )
    return EXAMPLE_TEXT.format(
        path=path,
        written=now.astimezone(tz).strftime("%Y-%m-%d"),
        at=start.strftime("%Y-%m-%d %H:%M"),
        decision=(start + timedelta(days=21)).strftime("%Y-%m-%d"),
    )
