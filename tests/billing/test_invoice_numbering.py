"""Invoice numbers under load: 8 issuers at once on PostgreSQL, every other one rolled back
after it has taken its number, leave unique, consecutive numbers and no gap."""

import datetime
import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from billing.models import Invoice, InvoiceCounter
from billing.services import charge_create, invoice_profiles, invoicing_run
from tests.factories import BillingProfileFactory, PlanFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under load"),
]

ISSUERS = 8
ROUNDS = 3
RUN = datetime.date(2026, 12, 1)


class RolledBack(Exception):
    pass


def test_concurrent_issuers_with_rollbacks_leave_no_gap(tenant):
    plan = PlanFactory()
    profiles = [BillingProfileFactory(tenant=tenant) for _ in range(ISSUERS * ROUNDS)]
    for profile in profiles:
        charge_create(
            profile=profile,
            subscription_uuid=uuid.uuid4(),
            plan=plan,
            kind="purchase",
            description="Ledger Pro",
            unit_amount=900,
            amount=900,
            period_start=datetime.date(2026, 11, 10),
            period_end=datetime.date(2026, 12, 10),
            at=datetime.datetime(2026, 11, 10, tzinfo=datetime.UTC),
        )
    start = threading.Barrier(ISSUERS)
    issued, failures = [], []

    def issuer(index: int) -> None:
        try:
            for round_ in range(ROUNDS):
                profile = profiles[round_ * ISSUERS + index]
                start.wait(timeout=30)
                try:
                    with transaction.atomic():
                        invoice_profiles([profile.pk], day=RUN)
                        number = Invoice.objects.get(billing_profile=profile).number
                        if index % 2:  # taken its number, then fails: gives it back
                            raise RolledBack
                    issued.append(number)
                except RolledBack:
                    pass
        except Exception as failure:  # seen by the test, not lost in the thread
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issuer, args=(i,)) for i in range(ISSUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    count = ISSUERS // 2 * ROUNDS
    assert sorted(issued) == [f"INV-2026-{n:06d}" for n in range(1, count + 1)]
    assert InvoiceCounter.objects.get(series="INV", year=2026).last == count
    assert invoicing_run(day=RUN).invoices == count  # the rolled back ones, run again
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 2 * count + 1)]
