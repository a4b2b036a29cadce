"""What billing tells the rest of the portal, which it never imports (subscriptions listen).

`invoice_paid(sender=Invoice, invoice_id=…)` is sent once an invoice's amount due has
reached zero by a payment, after the transaction that recorded it commits.
"""

from django.dispatch import Signal

invoice_paid = Signal()
