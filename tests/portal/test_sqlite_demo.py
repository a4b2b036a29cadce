"""The demo's SQLite answers simultaneous writes as PostgreSQL does: one after another.

Run in a child process on a fresh SQLite file with the demo's settings, since the test run
itself is on PostgreSQL.
"""

from tests.manage import manage, sqlite_env

# Eight requests' worth of work at once, each a transaction that reads, then writes (the
# billing profile service: check the name is free and whether a default exists, then save).
RACE = """
import threading
from django.db import connection, connections
from billing.services import billing_profile_create
from billing.models import BillingProfile
from portal.audit import Actor
from portal.services import tenant_create

print(connection.cursor().execute("PRAGMA journal_mode").fetchone()[0])
tenant = tenant_create(name="Contoso", country="US", actor=Actor.system())
values = {
    "contact_name": "Casey Contact", "email": "ap@example.com", "phone": "+1 425 555 0100",
    "address_line1": "1 Main Street", "city": "Redmond", "state": "WA", "postal_code": "98052",
    "country": "US", "invoice_emails": ["ap@example.com"],
}
start, errors = threading.Barrier(8), []

def create(n):
    start.wait()
    try:
        billing_profile_create(
            tenant=tenant, values={"name": f"Profile {n}", **values},
            payment_method="check_wire", actor=Actor.system(),
        )
    except Exception as error:
        errors.append(repr(error))
    finally:
        connections.close_all()

threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
profiles = BillingProfile.objects.for_tenant(tenant)
print(profiles.count(), profiles.filter(is_default=True).count(), errors)
"""


def test_simultaneous_writes_on_the_demo_sqlite_wait_for_each_other(tmp_path):
    env = sqlite_env(tmp_path, "demo.sqlite3", DEBUG="true")
    migrated = manage("migrate", "--no-input", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    result = manage("shell", "--no-imports", "-c", RACE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["wal", "8 1 []"], result.stdout
