from django.urls import path

from . import invoice_views as views

app_name = "bills"

invoice = "invoices/<uuid:invoice_uuid>/"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("invoices.csv", views.invoice_list_csv, name="list_csv"),
    path(invoice, views.invoice_detail, name="detail"),
    path(f"{invoice}lines.csv", views.invoice_csv, name="csv"),
    path(f"{invoice}invoice.pdf", views.invoice_pdf, name="pdf"),
    path(f"{invoice}pay/", views.invoice_pay, name="pay"),
    path("exports/", views.invoice_export_create, name="export_create"),
    path("exports/<uuid:export_uuid>/", views.invoice_export, name="export"),
    path(
        "exports/<uuid:export_uuid>/download/",
        views.invoice_export_download,
        name="export_download",
    ),
]
