"""On PostgreSQL: an issued invoice (or credit note) changes only its status, amount paid,
amount due and stored PDF; it is never deleted; its lines never change, nor are any added
or removed (a trigger on each table). Two composite foreign keys hold an invoice to its
billing profile's tenant and currency, as a charge's are held (0004).

SQLite (the demo) has none of these; the services are the only writers there.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued: it is never deleted', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR ROW(NEW.tenant_id, NEW.billing_profile_id, NEW.uuid, NEW.kind, NEW.number,
               NEW.corrects_id, NEW.issue_date, NEW.due_date, NEW.period_start,
               NEW.period_end, NEW.currency, NEW.subtotal, NEW.tax, NEW.total, NEW.bill_to,
               NEW.seller, NEW.payment_method, NEW.payment_terms, NEW.po_number,
               NEW.tax_label, NEW.tax_note, NEW.created_at)
           IS DISTINCT FROM
           ROW(OLD.tenant_id, OLD.billing_profile_id, OLD.uuid, OLD.kind, OLD.number,
               OLD.corrects_id, OLD.issue_date, OLD.due_date, OLD.period_start,
               OLD.period_end, OLD.currency, OLD.subtotal, OLD.tax, OLD.total, OLD.bill_to,
               OLD.seller, OLD.payment_method, OLD.payment_terms, OLD.po_number,
               OLD.tax_label, OLD.tax_note, OLD.created_at)
    ) THEN
        RAISE EXCEPTION 'invoice % is issued: only its status, amount paid, amount due '
            'and stored PDF change (a correction is a credit note)', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE OR REPLACE FUNCTION billing_invoiceline_immutable() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM billing_invoice
        WHERE status <> 'draft' AND id IN (
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END,
            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END)
    ) THEN
        RAISE EXCEPTION 'the lines of an issued invoice never change (% refused)', TG_OP;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoiceline_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();

ALTER TABLE billing_invoice
    ADD CONSTRAINT invoice_tenant_of_profile
    FOREIGN KEY (billing_profile_id, tenant_id)
    REFERENCES billing_billingprofile (id, tenant_id),
    ADD CONSTRAINT invoice_currency_of_profile
    FOREIGN KEY (billing_profile_id, currency)
    REFERENCES billing_billingprofile (id, currency);
"""

DROP = """
ALTER TABLE billing_invoice
    DROP CONSTRAINT IF EXISTS invoice_tenant_of_profile,
    DROP CONSTRAINT IF EXISTS invoice_currency_of_profile;
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_immutable();
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_immutable();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_invoices")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
