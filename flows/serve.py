"""Every schedule, in one place. Needs a running Prefect server (see the README):

    prefect server start            # UI and API on http://127.0.0.1:4200
    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.serve

nightly (ingest -> score) at 02:00 every day, the report at 06:00 every Monday for
the previous 7 days, retraining at 03:00 on the 1st of each month. Times are
Europe/Paris; change them here.
"""
from __future__ import annotations

from prefect import serve

from flows.nightly import nightly
from flows.report import report
from flows.retrain import retrain

TIMEZONE = "Europe/Paris"
SCHEDULES = {
    "nightly": "0 2 * * *",
    "weekly-report": "0 6 * * 1",
    "monthly-retrain": "0 3 1 * *",
}


def deployments():
    from prefect.schedules import Cron

    return [
        nightly.to_deployment(name="nightly", schedule=Cron(SCHEDULES["nightly"], timezone=TIMEZONE)),
        report.to_deployment(name="weekly-report", schedule=Cron(SCHEDULES["weekly-report"], timezone=TIMEZONE),
                             parameters={"last_days": 7}),
        retrain.to_deployment(name="monthly-retrain", schedule=Cron(SCHEDULES["monthly-retrain"], timezone=TIMEZONE)),
    ]


if __name__ == "__main__":
    serve(*deployments())
