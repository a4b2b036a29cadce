from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.forms import PaymentRecordForm
from portal.audit import Actor
from portal.money import major_amount


class Command(BaseCommand):
    help = (
        "Record a check or wire payment received on an issued invoice, in full or in part: "
        "it lowers the invoice's amount due (paid once nothing is due) and is audited. "
        "An overpayment, another currency or a void invoice is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help="the invoice's number, INV-YYYY-NNNNNN")
        parser.add_argument("--amount", required=True, help="in major units, e.g. 123.45")
        parser.add_argument("--reference", required=True, help="the check's or wire's reference")
        parser.add_argument("--date", help="the day it was received, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--currency", help="the payment's currency (default: the invoice's), e.g. EUR"
        )

    def handle(self, *args, **options):
        fields = ("number", "amount", "currency", "reference", "date")
        form = PaymentRecordForm({name: options[name] or "" for name in fields})
        if not form.is_valid():
            name, errors = next(iter(form.errors.items()))
            where = "" if name in ("__all__", "number") else f"--{name}: "
            raise CommandError(f"{where}{errors[0]}")
        try:
            payment = form.record(Actor.system("record_payment"))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        invoice = payment.invoice
        paid = f"{major_amount(payment.amount, payment.currency):,} {payment.currency}"
        due = f"{major_amount(invoice.amount_due, invoice.currency):,} {invoice.currency}"
        self.stdout.write(
            f"Recorded {paid} on {invoice.number} (reference {payment.reference}, "
            f"received {payment.received_on}): "
            + ("paid in full." if invoice.amount_due == 0 else f"{due} still due.")
        )
