"""1177 e-services: case events and logins take the batched loop; accounts and
units are compacted reference topics on Faust agents, like the HSA catalogue."""

from __future__ import annotations

import faust

from agents.reference import reference_agent
from agents.wiring import register_batched
from schemas.etj import (
    account_decoder,
    case_decoder,
    etj_unit_decoder,
    login_decoder,
)
from schemas.topics import ETJ_ACCOUNTS, ETJ_CASES, ETJ_LOGINS, ETJ_UNITS
from sinks.etj import CASES_TABLE, LOGINS_TABLE, accounts, units
from streams.context import Context


def register(app: faust.App, ctx: Context) -> None:
    s = ctx.settings
    register_batched(app, ctx, ETJ_CASES, case_decoder(s.max_message_bytes), CASES_TABLE)
    register_batched(app, ctx, ETJ_LOGINS, login_decoder(s.max_message_bytes), LOGINS_TABLE)
    reference_agent(app, ctx, ETJ_ACCOUNTS, accounts, account_decoder(s.max_message_bytes))
    reference_agent(app, ctx, ETJ_UNITS, units, etj_unit_decoder(s.max_message_bytes))
