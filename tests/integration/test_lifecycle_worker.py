"""The lifecycle sweep travels the real way: beat's task, Redis, a Celery worker."""

import datetime
import time

from django.conf import settings

from portal.audit import Actor
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import LifecycleRun, Subscription
from subscriptions.services.common import utc_day
from subscriptions.tasks import lifecycle_sweep
from tests.factories import BillingProfileFactory, SubscriptionFactory


def test_beat_runs_the_sweep_and_a_worker_renews_what_is_due(celery_worker, tenant):
    assert settings.CELERY_BEAT_SCHEDULE["lifecycle-sweep"]["task"] == lifecycle_sweep.name
    today = utc_day()
    profile = BillingProfileFactory(tenant=tenant)
    activated = datetime.datetime.combine(today - datetime.timedelta(days=40), datetime.time(9))
    due = []
    for _ in range(3):
        sub = SubscriptionFactory(billing_profile=profile)
        due.append(
            services.subscription_activate(
                subscription=sub,
                actor=Actor.system("test"),
                now=activated.replace(tzinfo=datetime.UTC),
            )
        )
    old_end = due[0].term_end
    assert old_end <= today

    lifecycle_sweep.delay()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if LifecycleRun.objects.filter(day=today, finished_at__isnull=False).exists():
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the sweep did not finish:\n" + "".join(celery_worker.log[-30:]))
    assert LifecycleRun.objects.get(day=today).renewed == 3
    for sub in Subscription.objects.filter(pk__in=[s.pk for s in due]):
        assert (sub.status, sub.term_start) == (Status.ACTIVE, old_end)
        assert sub.term_end > today
