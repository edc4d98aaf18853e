"""`audora dev clock advance 73h | reset | show`: move the application clock of a dev or
test stack, so a person can watch expiries and schedules happen (CONTRACT.md).

Refused in production, where the application clock is the system clock and nothing
reads the offset file.
"""

from __future__ import annotations

import argparse
import sys

from audora.platform.clock import OffsetClock, parse_duration
from audora.platform.config import get_settings
from audora.platform.runtime import dev_clock_file


def dev(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.env == "production":
        sys.stderr.write("audora dev: refused: AUDORA_ENV is production\n")
        return 2
    clock = OffsetClock(dev_clock_file(settings))
    if args.clock_command == "advance":
        try:
            delta = parse_duration(args.duration)
        except ValueError as error:
            sys.stderr.write(f"audora dev clock advance: {error}\n")
            return 2
        clock.advance(delta)
    elif args.clock_command == "reset":
        clock.reset()
    sys.stdout.write(f"application clock: {clock.now().isoformat()} (offset {clock.offset()})\n")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dev_parser = sub.add_parser("dev", help="dev and test helpers (refused in production)")
    dev_sub = dev_parser.add_subparsers(dest="dev_command", required=True)
    clock = dev_sub.add_parser("clock", help="the application clock of the API and workers")
    clock_sub = clock.add_subparsers(dest="clock_command", required=True)
    advance = clock_sub.add_parser("advance", help="move it forward, e.g. 73h, 30d, 1d12h")
    advance.add_argument("duration")
    clock_sub.add_parser("reset", help="back to the system clock")
    clock_sub.add_parser("show", help="print it")
