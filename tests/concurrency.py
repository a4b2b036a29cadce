"""Run calls at the same moment, each in its own thread and database connection."""

import threading

from django.db import connections


def run_together(*calls) -> list[Exception]:
    """Start every call at once and wait for all; the exceptions they raised."""
    start = threading.Barrier(len(calls))
    errors = []

    def run(call):
        start.wait()
        try:
            call()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors
