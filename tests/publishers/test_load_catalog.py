import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.audit import Actor
from portal.regions import CURRENCIES
from publishers import services
from publishers.catalog_file import CatalogError, read_catalog
from publishers.models import App, Plan, Price, PricingModel, Publisher, Term
from tests.factories import AppFactory, PlanFactory, PublisherFactory, TenantFactory


def catalog():
    """One publisher: a per-seat app with a public and a private plan, a flat-rate app."""
    return {
        "publishers": [
            {
                "slug": "quillfeather",
                "name": "Quillfeather Labs",
                "legal_name": "Quillfeather Labs Ltd.",
                "address": {"line1": "4 Tannery Yard", "city": "Bristol", "country": "GB"},
                "support_url": "https://quillfeather.example/support",
                "support_email": "support@quillfeather.example",
                "landing_page_url": "https://quillfeather.example/activate",
                "apps": [
                    {
                        "offer_id": "notes",
                        "name": "Quillfeather Notes",
                        "summary": "Shared notebooks.",
                        "description": "Notebooks for teams.",
                        "category": "productivity",
                        "pricing_model": "per_seat",
                        "plans": [
                            {
                                "plan_id": "standard",
                                "name": "Standard",
                                "term": "P1M",
                                "min_quantity": 1,
                                "max_quantity": 500,
                                "prices": {"USD": 400, "EUR": 370},
                            },
                            {
                                "plan_id": "enterprise",
                                "name": "Enterprise",
                                "term": "P1Y",
                                "min_quantity": 100,
                                "max_quantity": 10000,
                                "private_for": ["contoso"],
                                "prices": {"USD": 11000},
                            },
                        ],
                    },
                    {
                        "offer_id": "review",
                        "name": "Quillfeather Review",
                        "summary": "Code review checklists.",
                        "description": "Reviewer rotation and checklists.",
                        "category": "developer_tools",
                        "pricing_model": "flat_rate",
                        "plans": [
                            {
                                "plan_id": "team",
                                "name": "Team",
                                "term": "P1Y",
                                "prices": {"GBP": 38500},
                            }
                        ],
                    },
                ],
            }
        ]
    }


def write(tmp_path, data) -> str:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, indent=2) if isinstance(data, dict) else data)
    return str(path)


def load(path, capsys) -> str:
    call_command("load_catalog", path)
    return capsys.readouterr().out.strip()


def refusal(path) -> list[str]:
    with pytest.raises(CommandError) as refused:
        call_command("load_catalog", path)
    return str(refused.value).splitlines()


def line_of(path, text: str) -> int:
    """The line of the `{` opening the (last) object whose first key is `text` (indent=2)."""
    lines = Path(path).read_text().splitlines()
    return max(number for number, line in enumerate(lines, 1) if text in line) - 1


def snapshot():
    return (
        list(Publisher.objects.order_by("pk").values()),
        list(App.objects.order_by("pk").values()),
        list(Plan.objects.order_by("pk").values()),
        list(Plan.allowed_tenants.through.objects.order_by("pk").values()),
        list(Price.objects.order_by("pk").values()),
    )


def test_a_valid_file_loads_everything(tenant, tmp_path, capsys):
    output = load(write(tmp_path, catalog()), capsys)

    assert output == (
        "Loaded catalog.json: 1 publishers, 2 apps, 3 plans, 4 prices "
        "(10 created, 0 changed, 0 unchanged)."
    )
    publisher = Publisher.objects.get(slug="quillfeather")
    assert (publisher.city, publisher.country, publisher.state) == ("Bristol", "GB", "")
    assert (publisher.is_active, publisher.auto_provisioning) == (True, False)
    assert publisher.webhook_secret.startswith("whsec_")
    notes = App.objects.get(publisher=publisher, offer_id="notes")
    assert (notes.pricing_model, notes.is_published) == (PricingModel.PER_SEAT, True)
    standard = notes.plans.get(plan_id="standard")
    assert (standard.term, standard.min_quantity, standard.max_quantity) == (Term.MONTHLY, 1, 500)
    assert dict(standard.prices.values_list("currency", "amount")) == {"USD": 400, "EUR": 370}
    assert not standard.is_private
    enterprise = notes.plans.get(plan_id="enterprise")
    assert enterprise.is_private
    assert list(enterprise.allowed_tenants.all()) == [tenant]
    team = Plan.objects.get(app__offer_id="review", plan_id="team")
    assert (team.pricing_model, team.min_quantity, team.max_quantity) == ("flat_rate", None, None)


def test_loading_the_same_file_twice_changes_nothing(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    load(path, capsys)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        output = load(path, capsys)

    assert output.endswith("(0 created, 0 changed, 10 unchanged).")
    assert snapshot() == before
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_an_edited_file_changes_prices_adds_plans_and_keeps_the_rest(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    load(path, capsys)
    secret = Publisher.objects.get(slug="quillfeather").webhook_secret
    elsewhere = PlanFactory(plan_id="not-in-the-file", prices={"USD": 999})
    data = catalog()
    notes = data["publishers"][0]["apps"][0]
    notes["plans"][0]["prices"] = {"USD": 450}  # EUR is dropped
    notes["plans"].append(
        {
            "plan_id": "standard-annual",
            "name": "Standard",
            "term": "P1Y",
            "min_quantity": 1,
            "max_quantity": 500,
            "prices": {"USD": 4500},
        }
    )
    notes["plans"][1]["private_for"] = []
    write(tmp_path, data)

    output = load(path, capsys)

    assert output == (
        "Loaded catalog.json: 1 publishers, 2 apps, 4 plans, 4 prices "
        "(2 created, 2 changed, 7 unchanged, 1 removed)."
    )
    standard = Plan.objects.get(app__offer_id="notes", plan_id="standard")
    assert dict(standard.prices.values_list("currency", "amount")) == {"USD": 450}
    annual = Plan.objects.get(app__offer_id="notes", plan_id="standard-annual")
    assert annual.term == Term.ANNUAL
    enterprise = Plan.objects.get(plan_id="enterprise")
    assert not enterprise.is_private
    assert not enterprise.allowed_tenants.exists()
    assert Publisher.objects.get(slug="quillfeather").webhook_secret == secret
    assert Plan.objects.filter(pk=elsewhere.pk).exists()  # not in the file: left alone
    assert elsewhere.prices.count() == 1


def test_a_rotated_webhook_secret_survives_a_reload(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    load(path, capsys)
    publisher = Publisher.objects.get(slug="quillfeather")
    old = publisher.webhook_secret

    services.publisher_rotate_webhook_secret(publisher=publisher, actor=Actor.system())
    load(path, capsys)

    publisher.refresh_from_db()
    assert publisher.webhook_secret.startswith("whsec_")
    assert publisher.webhook_secret != old


def test_an_invalid_file_changes_nothing_and_names_every_line(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    load(path, capsys)
    before = snapshot()
    data = catalog()
    publisher = data["publishers"][0]
    publisher["support_email"] = "not-an-address"
    publisher["address"]["country"] = "gb"
    publisher["apps"][0]["plans"][0]["prices"]["USD"] = 500  # a good change, not applied
    publisher["apps"][1]["category"] = "games"
    publisher["apps"][1]["plans"][0]["min_quantity"] = 1
    publisher["apps"][1]["plans"][0]["colour"] = "blue"
    write(tmp_path, data)

    errors = refusal(path)

    publisher_line, address_line = line_of(path, '"slug"'), line_of(path, '"line1"')
    review_line = line_of(path, '"offer_id": "review"')
    team_line = line_of(path, '"plan_id": "team"')
    assert errors == [
        "catalog.json: 5 errors, nothing loaded",
        f"catalog.json:{publisher_line}: publishers[0].support_email: Enter a valid email address.",
        f"catalog.json:{address_line}: publishers[0].address.country: country must be an ISO "
        "code of two capital letters, not 'gb'",
        f"catalog.json:{review_line}: publishers[0].apps[1].category: unknown category 'games' "
        "(one of analytics, collaboration, customer_service, developer_tools, finance, "
        "human_resources, marketing, productivity, project_management, sales, security)",
        f"catalog.json:{team_line}: publishers[0].apps[1].plans[0]: unknown key 'colour'",
        f"catalog.json:{team_line}: publishers[0].apps[1].plans[0]: flat_rate plans have no "
        "min_quantity or max_quantity",
    ]
    assert snapshot() == before


def test_a_json_syntax_error_names_line_and_column(db, tmp_path):
    path = write(tmp_path, '{\n  "publishers": [\n    {"slug": "a" "name": "b"}\n  ]\n}\n')

    assert refusal(path) == [
        "catalog.json: 1 error, nothing loaded",
        "catalog.json:3:18: Expecting ',' delimiter",
    ]


def plan_of(data, app=0, plan=0) -> dict:
    return data["publishers"][0]["apps"][app]["plans"][plan]


def test_every_schema_problem_names_its_line_and_place(tenant, tmp_path):
    data = catalog()
    data["publisher"] = []
    publisher = data["publishers"][0]
    publisher["address"]["zip"] = "BS2"
    publisher["apps"][0]["published"] = 1
    plan_of(data, 0, 1).pop("name")
    path = write(tmp_path, data)

    errors = refusal(path)

    address_line, notes_line = line_of(path, '"line1"'), line_of(path, '"offer_id": "notes"')
    enterprise_line = line_of(path, '"plan_id": "enterprise"')
    assert errors == [
        "catalog.json: 4 errors, nothing loaded",
        "catalog.json:1: top level: unknown key 'publisher' (did you mean 'publishers'?)",
        f"catalog.json:{address_line}: publishers[0].address: unknown key 'zip'",
        f"catalog.json:{notes_line}: publishers[0].apps[0].published: expected true or false, "
        "got an integer",
        f"catalog.json:{enterprise_line}: publishers[0].apps[0].plans[1]: missing required key "
        "'name'",
    ]


def test_lines_are_counted_in_the_text_as_written(tenant, tmp_path):
    path = write(
        tmp_path,
        '{"publishers": [{"slug": "q", "name": "{Q}", "legal_name": "Q \\"}\\" Ltd.",\n'
        '  "address": {"line1": "1 Road", "city": "Bristol", "country": "GB"},\n'
        '  "support_url": "https://q.example/", "support_email": "s@q.example",\n'
        '  "landing_page_url": "https://q.example/go", "apps": [\n'
        '    {"offer_id": "a", "name": "A {", "summary": "S", "description": "D",\n'
        '     "category": "sales", "pricing_model": "flat_rate", "plans": [\n'
        '       {"plan_id": "p", "name": "P", "term": "P1M", "prices": {"USD": 1, "USD": 2}}]},\n'
        '    {"offer_id": "a", "name": "B", "summary": "S", "description": "D",\n'
        '     "category": "sales", "pricing_model": "per_seat", "publish": true}]}]}\n',
    )

    assert refusal(path) == [
        "catalog.json: 3 errors, nothing loaded",
        "catalog.json:7: publishers[0].apps[0].plans[0].prices: currency 'USD' is given twice",
        "catalog.json:8: publishers[0].apps[1]: unknown key 'publish' (did you mean 'published'?)",
        "catalog.json:8: publishers[0].apps[1].offer_id: 'a' is also the offer_id of "
        "publishers[0].apps[0]",
    ]


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            lambda d: plan_of(d, 0, 1).update(private_for=["contoso", "acme"]),
            '"plan_id": "enterprise"',
            "publishers[0].apps[0].plans[1].private_for[1]: unknown tenant 'acme'",
        ),
        (
            lambda d: plan_of(d).pop("max_quantity"),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0]: per_seat plans need min_quantity and max_quantity "
            "(1 ≤ min ≤ max ≤ 10000)",
        ),
        (
            lambda d: plan_of(d).update(max_quantity=10001),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0]: per_seat plans need min_quantity and max_quantity "
            "(1 ≤ min ≤ max ≤ 10000)",
        ),
        (
            lambda d: plan_of(d).update(min_quantity=50, max_quantity=5),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0]: per_seat plans need min_quantity and max_quantity "
            "(1 ≤ min ≤ max ≤ 10000)",
        ),
        (
            lambda d: plan_of(d, 1).update(min_quantity=1, max_quantity=5),
            '"plan_id": "team"',
            "publishers[0].apps[1].plans[0]: flat_rate plans have no min_quantity or max_quantity",
        ),
        (
            lambda d: plan_of(d)["prices"].update(JPY=500),
            '"USD": 400',
            "publishers[0].apps[0].plans[0].prices.JPY: unknown currency 'JPY' "
            "(supported: USD, CAD, GBP, AUD, ZAR, EUR)",
        ),
        (
            lambda d: plan_of(d)["prices"].update(EUR=-370),
            '"USD": 400',
            "publishers[0].apps[0].plans[0].prices.EUR: amounts are positive integers in minor "
            "units (400 is 4.00), not -370",
        ),
        (
            lambda d: plan_of(d, 0, 1).update(plan_id="standard"),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[1].plan_id: 'standard' is also the plan_id of "
            "publishers[0].apps[0].plans[0]",
        ),
        (
            lambda d: plan_of(d).update(min_quantity="1"),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0].min_quantity: expected an integer, got a string",
        ),
        (
            lambda d: plan_of(d).update(stop_sell=None),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0].stop_sell: expected true or false, got null",
        ),
        (
            lambda d: plan_of(d).update(stop_sel=True),
            '"plan_id": "standard"',
            "publishers[0].apps[0].plans[0]: unknown key 'stop_sel' (did you mean 'stop_sell'?)",
        ),
    ],
    ids=[
        "unknown tenant",
        "per-seat without bounds",
        "per-seat above the most",
        "per-seat minimum above maximum",
        "flat rate with bounds",
        "unknown currency",
        "negative amount",
        "duplicate plan id",
        "a number as text",
        "null is no default",
        "unknown key",
    ],
)
def test_a_bad_plan_is_refused_with_its_line(tenant, tmp_path, change, where, message):
    data = catalog()
    change(data)
    path = write(tmp_path, data)

    errors = refusal(path)

    assert f"catalog.json:{line_of(path, where)}: {message}" in errors, errors
    assert not Publisher.objects.exists()


def test_an_app_with_plans_keeps_its_pricing_model(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    load(path, capsys)
    data = catalog()
    data["publishers"][0]["apps"][1]["pricing_model"] = "per_seat"
    plan_of(data, 1).update(min_quantity=1, max_quantity=10)
    write(tmp_path, data)

    errors = refusal(path)

    review_line = line_of(path, '"offer_id": "review"')
    assert errors[1:] == [
        f"catalog.json:{review_line}: publishers[0].apps[1].pricing_model: the app has plans, "
        "so it keeps its pricing model 'flat_rate'"
    ]
    assert App.objects.get(offer_id="review").pricing_model == PricingModel.FLAT_RATE


def test_a_pricing_model_fixed_between_check_and_load_is_still_refused(tenant, tmp_path):
    path = write(tmp_path, catalog())
    checked = read_catalog(path)
    app = AppFactory(
        publisher=PublisherFactory(slug="quillfeather"),
        offer_id="review",
        pricing_model=PricingModel.PER_SEAT,
    )
    PlanFactory(app=app)

    with pytest.raises(CatalogError) as refused:
        services.catalog_load(catalog=checked)

    review_line = line_of(path, '"offer_id": "review"')
    assert refused.value.errors == [
        f"catalog.json:{review_line}: publishers[0].apps[1].pricing_model: the app has plans, "
        "so it keeps its pricing model 'per_seat'"
    ]
    assert not App.objects.filter(offer_id="notes").exists()


def test_the_demo_catalog_follows_the_rules(tenant, other_tenant, capsys):
    call_command("load_catalog", "--demo")
    output = capsys.readouterr().out

    assert output.startswith("Loaded demo.json: ")
    assert Publisher.objects.count() >= 4
    assert App.objects.count() >= 10
    assert set(App.objects.values_list("pricing_model", flat=True)) == set(PricingModel.values)
    assert set(Plan.objects.values_list("term", flat=True)) == set(Term.values)
    assert set(Price.objects.values_list("currency", flat=True)) == set(CURRENCIES)
    private = Plan.objects.get(is_private=True)
    assert list(private.allowed_tenants.all()) == [tenant]
    assert Plan.objects.visible_to(tenant).filter(pk=private.pk).exists()
    assert not Plan.objects.visible_to(other_tenant).filter(pk=private.pk).exists()
    assert Plan.objects.filter(is_stop_sell=True).count() == 1
    for country in ["US", "CA", "DE", "GB", "AU", "ZA"]:
        assert App.objects.offered_to(TenantFactory(country=country)).count() >= 8, country
    call_command("load_catalog", "--demo")
    assert "(0 created, 0 changed, " in capsys.readouterr().out


def test_the_demo_catalog_needs_the_contoso_tenant(db):
    with pytest.raises(CommandError, match="unknown tenant 'contoso'"):
        call_command("load_catalog", "--demo")
    assert not Publisher.objects.exists()


@pytest.mark.parametrize("args", [[], ["catalog.json", "--demo"]])
def test_the_command_takes_a_file_or_demo(db, args):
    with pytest.raises(CommandError, match=r"Give either a catalog file or --demo\."):
        call_command("load_catalog", *args)


def test_a_missing_file_is_one_error(db, tmp_path):
    assert refusal(str(tmp_path / "nope.json")) == [
        "nope.json: 1 error, nothing loaded",
        "nope.json: No such file or directory",
    ]


def test_publishers_not_in_the_file_are_left_alone(tenant, tmp_path, capsys):
    other = PublisherFactory(slug="someone-else")
    load(write(tmp_path, catalog()), capsys)
    assert Publisher.objects.filter(pk=other.pk, name=other.name).exists()


def test_a_dry_run_counts_the_changes_and_keeps_none(tenant, tmp_path, capsys):
    path = write(tmp_path, catalog())
    call_command("load_catalog", path, "--dry-run")
    assert capsys.readouterr().out.startswith("Would load catalog.json:")
    assert snapshot() == ([], [], [], [], [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"publishers": [' + "1" * 5000 + "]}", "catalog.json: Exceeds the limit"),
        ('{"publishers": [{"slug": "a\\u0000b"}]}', "catalog.json:1: publishers[0].slug: text"),
        ('{"publishers": [{"name": "\\ud800"}]}', "catalog.json:1: publishers[0].name: text"),
    ],
)
def test_text_the_database_cannot_store_is_a_clear_error(tenant, tmp_path, text, message):
    lines = refusal(write(tmp_path, text))
    assert any(line.startswith(message) for line in lines), lines
    assert snapshot() == ([], [], [], [], [])
