"""What every flow shares: settings for a home, Prefect defaults, command-line running."""
from __future__ import annotations

import argparse
import os
import sys

# Offline by default: no telemetry. Set before Prefect is imported by a flow module.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.tasks import exponential_backoff  # noqa: E402

from pipeline.config import Settings, load_settings  # noqa: E402
from pipeline.errors import ComplaintsError, one_line  # noqa: E402

# I/O tasks retry with exponential backoff (2 s, 4 s, 8 s): a busy disk or a network
# share that blinks should not fail a nightly run. Task inputs are not hashed for
# caching: they can be thousands of texts.
def worth_retrying(task, task_run, state) -> bool:
    """Retry what may pass on a second try (a blinking share), not a user error
    (bad input, full disk, read-only folder): those fail at once with their message."""
    try:
        state.result()
    except ComplaintsError:
        return False
    except Exception:
        return True
    return True


IO_TASK = dict(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2), cache_policy=NO_CACHE,
               retry_condition_fn=worth_retrying)


def settings_for(home: str | None) -> Settings:
    return load_settings(home) if home else load_settings()


def home_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", help="COMPLAINTS_HOME to work in (default: $COMPLAINTS_HOME or the repository)")


def run_cli(main) -> None:
    """Run a flow's command-line entry: user errors as one line, exit code 2."""
    try:
        result = main()
    except ComplaintsError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        print(one_line(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), file=sys.stderr)
        sys.exit(2)
    if isinstance(result, dict):
        for key, value in result.items():
            print(f"{key}: {value}")
