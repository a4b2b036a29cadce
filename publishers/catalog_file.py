"""Read and check a catalog file: publishers, their apps, plans and prices, in JSON.

    {"publishers": [{
      "slug": "quillfeather", "name": "Quillfeather Labs", "legal_name": "Quillfeather Labs Ltd.",
      "address": {"line1": "4 Tannery Yard", "line2": "", "city": "Bristol", "state": "",
                  "postal_code": "BS2 0QT", "country": "GB"},
      "support_url": "https://quillfeather.example/support",
      "support_email": "support@quillfeather.example", "contact_emails": [],
      "landing_page_url": "https://quillfeather.example/activate", "webhook_url": "",
      "auto_provisioning": false, "active": true,
      "apps": [{
        "offer_id": "quillfeather-notes", "name": "Quillfeather Notes",
        "summary": "Shared notebooks for teams.", "description": "Two to four sentences.",
        "category": "productivity", "pricing_model": "per_seat", "published": true,
        "plans": [{
          "plan_id": "standard-monthly", "name": "Standard", "description": "", "term": "P1M",
          "min_quantity": 1, "max_quantity": 500, "private_for": ["contoso"], "stop_sell": false,
          "prices": {"USD": 400, "EUR": 380}}]}]}]}

Optional keys and their defaults: address line2, state and postal_code "", contact_emails [],
webhook_url "", auto_provisioning false, active true, apps [], published true, plans [], plan
description "", private_for [] (public), stop_sell false. `country` is two capital letters (ISO
3166); `category` is a marketplace category; `pricing_model` flat_rate or per_seat; `term` P1M
(monthly) or P1Y (annual). Per-seat plans give 1 <= min_quantity <= max_quantity <= 10000;
flat-rate plans give neither. Prices are integers in the currency's minor unit (400 is 4.00),
per license and term (per-seat) or per term (flat rate), in supported currencies; a plan has at
least one. `private_for` names the existing tenants that alone may buy a private plan.

Publishers match by slug, apps by (publisher, offer_id), plans by (app, plan_id), prices by
(plan, currency): rows found are updated, others created. The file is the whole truth about the
prices of the plans it names (their other prices are removed); publishers, apps and plans it does
not name are left alone. The webhook secret is never read from a file.

Every problem is reported before anything is written, each naming the line its object starts on
and its place: `demo.json:42: publishers[0].apps[1].plans[0]: per_seat plans need ...`.
"""

import bisect
import copy
import difflib
import json
import json.decoder
import json.scanner
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.models import Tenant
from portal.regions import CURRENCIES

from .models import (
    MAX_SEATS,
    MIN_SEATS,
    App,
    Category,
    Plan,
    PricingModel,
    Publisher,
    Term,
    pricing_model_refusal,
    quantity_bounds_problem,
)

DEMO_CATALOG = Path(__file__).with_name("catalog") / "demo.json"
MAX_AMOUNT = 2_147_483_647  # the largest PostgreSQL integer
BOUNDS = {  # the file's words for models.quantity_bounds_problem
    PricingModel.FLAT_RATE: "flat_rate plans have no min_quantity or max_quantity",
    PricingModel.PER_SEAT: "per_seat plans need min_quantity and max_quantity "
    f"({MIN_SEATS} ≤ min ≤ max ≤ {MAX_SEATS})",
}

REQUIRED = object()
# key: (JSON type, default or REQUIRED, model field the value goes to or None)
ROOT_KEYS = {"publishers": (list, REQUIRED, None)}
PUBLISHER_KEYS = {
    "slug": (str, REQUIRED, "slug"),
    "name": (str, REQUIRED, "name"),
    "legal_name": (str, REQUIRED, "legal_name"),
    "address": (dict, REQUIRED, None),
    "support_url": (str, REQUIRED, "support_url"),
    "support_email": (str, REQUIRED, "support_email"),
    "contact_emails": (list, [], None),
    "landing_page_url": (str, REQUIRED, "landing_page_url"),
    "webhook_url": (str, "", "webhook_url"),
    "auto_provisioning": (bool, False, "auto_provisioning"),
    "active": (bool, True, "is_active"),
    "apps": (list, [], None),
}
ADDRESS_KEYS = {
    "line1": (str, REQUIRED, "address_line1"),
    "line2": (str, "", "address_line2"),
    "city": (str, REQUIRED, "city"),
    "state": (str, "", "state"),
    "postal_code": (str, "", "postal_code"),
    "country": (str, REQUIRED, None),
}
APP_KEYS = {
    "offer_id": (str, REQUIRED, "offer_id"),
    "name": (str, REQUIRED, "name"),
    "summary": (str, REQUIRED, "summary"),
    "description": (str, REQUIRED, "description"),
    "category": (str, REQUIRED, None),
    "pricing_model": (str, REQUIRED, None),
    "published": (bool, True, "is_published"),
    "plans": (list, [], None),
}
PLAN_KEYS = {
    "plan_id": (str, REQUIRED, "plan_id"),
    "name": (str, REQUIRED, "name"),
    "description": (str, "", "description"),
    "term": (str, REQUIRED, None),
    "min_quantity": (int, None, None),
    "max_quantity": (int, None, None),
    "private_for": (list, [], None),
    "stop_sell": (bool, False, "is_stop_sell"),
    "prices": (dict, REQUIRED, None),
}
TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}
TYPE_NAMES[dict] = "an object"


class CatalogError(Exception):
    """The file cannot be loaded: `errors` has one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class PlanSpec:
    where: str  # "demo.json:42: publishers[0].apps[1].plans[0]", for messages
    plan_id: str
    values: dict  # Plan field: value
    private_for: list[str]
    prices: dict[str, int]


@dataclass
class AppSpec:
    where: str
    offer_id: str
    values: dict
    plans: list[PlanSpec]


@dataclass
class PublisherSpec:
    where: str
    slug: str
    values: dict
    apps: list[AppSpec]


@dataclass
class Catalog:
    name: str
    publishers: list[PublisherSpec]


def read_catalog(path) -> Catalog:
    """The checked catalog in the file at `path`; CatalogError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CatalogError([f"{path.name}: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise CatalogError([f"{path.name}: not UTF-8 text (byte {error.start})"]) from None
    return parse_catalog(text, name=path.name)


def parse_catalog(text: str, *, name: str) -> Catalog:
    try:
        root = _decode(text)
    except json.JSONDecodeError as error:
        raise CatalogError([f"{name}:{error.lineno}:{error.colno}: {error.msg}"]) from None
    except RecursionError:
        raise CatalogError([f"{name}: nested too deeply"]) from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise CatalogError([f"{name}: {error}"]) from None
    bad_text = list(_bad_strings(root, "", root))
    if bad_text:
        raise CatalogError(
            [
                f"{name}:{line}: {path or 'top level'}: text with a NUL or a lone surrogate"
                for line, path in bad_text
            ]
        )
    reader = _Reader(name)
    catalog = reader.catalog(root)
    reader.check_database()
    if reader.errors:
        raise CatalogError([message for _, message in sorted(reader.errors, key=lambda e: e[0])])
    return catalog


class _Node(dict):
    """A JSON object, with the line its `{` is on and the keys it gives more than once."""

    line = 1
    duplicates: tuple = ()


def _decode(text: str):
    """json.loads, giving _Node objects. The C scanner ignores parse_object: use Python's."""
    newlines = [match.start() for match in re.finditer("\n", text)]

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        node = _Node(pairs)
        node.line = bisect.bisect_left(newlines, s_and_end[1] - 1) + 1
        if len(node) < len(pairs):
            keys = [key for key, _ in pairs]
            node.duplicates = tuple(dict.fromkeys(k for k in keys if keys.count(k) > 1))
        return node, end

    decoder = json.JSONDecoder()
    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def _bad_strings(value, path, node):
    """(line, path) of every string, key or value, that PostgreSQL or UTF-8 cannot store."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            yield node.line, path
    elif isinstance(value, _Node):
        for key, item in value.items():
            yield from _bad_strings(key, path, value)
            yield from _bad_strings(item, f"{path}.{key}" if path else key, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_strings(item, f"{path}[{index}]", node)


def _is(value, kind) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _json_type(value) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return "a decimal number"
    return TYPE_NAMES[type(value) if type(value) in TYPE_NAMES else dict]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _choices(value, enum, what: str) -> str | None:
    if value in enum.values:
        return None
    return f"unknown {what} {value!r} (one of {', '.join(enum.values)})"


class _Reader:
    def __init__(self, name: str):
        self.name = name
        self.errors: list[tuple[int, str]] = []
        self.tenant_refs: list[tuple[str, _Node, str]] = []
        self.app_refs: list[tuple[str, str, str, _Node, str]] = []

    def where(self, node: _Node, path: str) -> str:
        return f"{self.name}:{node.line}: {path or 'top level'}"

    def error(self, node: _Node, path: str, message: str):
        self.errors.append((node.line, f"{self.where(node, path)}: {message}"))

    def keys(self, node: _Node, path: str, table: dict) -> dict:
        """The node's values of the right type, with defaults; reports every other problem."""
        for key in node.duplicates:
            self.error(node, path, f"key {key!r} is given twice")
        for key in node:
            if key not in table:
                hint = difflib.get_close_matches(key, table, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(node, path, f"unknown key {key!r}{also}")
        missing = [repr(k) for k, s in table.items() if s[1] is REQUIRED and node.get(k) is None]
        if missing:
            keys = "keys" if len(missing) > 1 else "key"
            self.error(node, path, f"missing required {keys} {', '.join(missing)}")
        values = {}
        for key, (kind, default, _) in table.items():
            value = node.get(key)
            if value is None and default is not REQUIRED:
                values[key] = copy.copy(default)
            elif value is None:
                continue  # missing, reported above
            elif not _is(value, kind):
                got = _json_type(value)
                self.error(node, _join(path, key), f"expected {TYPE_NAMES[kind]}, got {got}")
            else:
                values[key] = value
        return values

    def objects(self, node: _Node, path: str, items: list):
        """(item, its path) for the objects of a list; reports the other items."""
        for index, item in enumerate(items):
            if isinstance(item, _Node):
                yield item, f"{path}[{index}]"
            else:
                self.error(node, f"{path}[{index}]", f"expected an object, got {_json_type(item)}")

    def fields(self, node, path, table, values) -> dict:
        """{model field: (value, node, path)} of the values that go straight to a field."""
        found = {}
        for key, (_, _, field) in table.items():
            if field and key in values:
                found[field] = (values[key], node, _join(path, key))
        return found

    def clean(self, model, fields: dict) -> dict:
        """Django's field checks (lengths, slugs, URLs, e-mail); returns {field: value}."""
        instance = model(**{name: value for name, (value, _, _) in fields.items()})
        exclude = {field.name for field in model._meta.fields} - set(fields)
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                _, node, path = fields[name]
                self.error(node, path, " ".join(messages))
        return {name: value for name, (value, _, _) in fields.items()}

    def unique(self, seen: dict, value, node, path, what: str):
        if value in seen:
            self.error(node, path, f"{value!r} is also the {what} of {seen[value]}")
        seen.setdefault(value, path.rsplit(".", 1)[0])

    def catalog(self, root) -> Catalog:
        publishers = []
        if not isinstance(root, _Node):
            self.error(_Node(), "", 'expected an object with a "publishers" list')
            return Catalog(self.name, publishers)
        seen = {}
        values = self.keys(root, "", ROOT_KEYS)
        for node, path in self.objects(root, "publishers", values.get("publishers", [])):
            publishers.append(self.publisher(node, path, seen))
        return Catalog(self.name, publishers)

    def publisher(self, node: _Node, path: str, seen: dict) -> PublisherSpec:
        values = self.keys(node, path, PUBLISHER_KEYS)
        fields = self.fields(node, path, PUBLISHER_KEYS, values)
        emails = values.get("contact_emails", [])
        extra = {"contact_emails": emails}
        for index, email in enumerate(emails):
            try:  # one by one: the field's validator reports "Value must be valid JSON."
                validate_email(email if isinstance(email, str) else "")
            except ValidationError as error:
                self.error(node, f"{path}.contact_emails[{index}]", " ".join(error.messages))
        if "address" in values:
            address, address_path = values["address"], f"{path}.address"
            parts = self.keys(address, address_path, ADDRESS_KEYS)
            fields |= self.fields(address, address_path, ADDRESS_KEYS, parts)
            extra["country"] = country = parts.get("country")
            if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
                message = f"country must be an ISO code of two capital letters, not {country!r}"
                self.error(address, f"{address_path}.country", message)
        model_values = self.clean(Publisher, fields) | extra
        slug = values.get("slug", "")
        if slug:
            self.unique(seen, slug, node, f"{path}.slug", "slug")
        apps, seen_apps = [], {}
        for app_node, app_path in self.objects(node, f"{path}.apps", values.get("apps", [])):
            apps.append(self.app(app_node, app_path, slug, seen_apps))
        return PublisherSpec(self.where(node, path), slug, model_values, apps)

    def app(self, node: _Node, path: str, publisher_slug: str, seen: dict) -> AppSpec:
        values = self.keys(node, path, APP_KEYS)
        model_values = self.clean(App, self.fields(node, path, APP_KEYS, values))
        category, pricing_model = values.get("category"), values.get("pricing_model")
        for key, value, enum in (
            ("category", category, Category),
            ("pricing_model", pricing_model, PricingModel),
        ):
            if value is not None and (problem := _choices(value, enum, key.replace("_", " "))):
                self.error(node, f"{path}.{key}", problem)
            model_values[key] = value
        offer_id = values.get("offer_id", "")
        if offer_id:
            self.unique(seen, offer_id, node, f"{path}.offer_id", "offer_id")
            if publisher_slug and pricing_model in PricingModel.values:
                self.app_refs.append((publisher_slug, offer_id, pricing_model, node, path))
        plans, seen_plans = [], {}
        for plan_node, plan_path in self.objects(node, f"{path}.plans", values.get("plans", [])):
            plans.append(self.plan(plan_node, plan_path, pricing_model, seen_plans))
        return AppSpec(self.where(node, path), offer_id, model_values, plans)

    def plan(self, node: _Node, path: str, pricing_model, seen: dict) -> PlanSpec:
        values = self.keys(node, path, PLAN_KEYS)
        model_values = self.clean(Plan, self.fields(node, path, PLAN_KEYS, values))
        term = values.get("term")
        if term is not None and (problem := _choices(term, Term, "term")):
            self.error(node, f"{path}.term", problem)
        low, high = values.get("min_quantity"), values.get("max_quantity")
        model_values |= {"term": term, "min_quantity": low, "max_quantity": high}
        typed = "min_quantity" in values and "max_quantity" in values  # else a type error
        if typed and quantity_bounds_problem(pricing_model, low, high):
            self.error(node, path, BOUNDS[pricing_model])
        private_for = []
        for index, slug in enumerate(values.get("private_for", [])):
            slug_path = f"{path}.private_for[{index}]"
            if not isinstance(slug, str):
                self.error(node, slug_path, f"expected a tenant slug, got {_json_type(slug)}")
            elif slug not in private_for:
                private_for.append(slug)
                self.tenant_refs.append((slug, node, slug_path))
        plan_id = values.get("plan_id", "")
        if plan_id:
            self.unique(seen, plan_id, node, f"{path}.plan_id", "plan_id")
        prices = self.prices(values.get("prices"), f"{path}.prices")
        return PlanSpec(self.where(node, path), plan_id, model_values, private_for, prices)

    def prices(self, node: _Node | None, path: str) -> dict[str, int]:
        if node is None:
            return {}
        for key in node.duplicates:
            self.error(node, path, f"currency {key!r} is given twice")
        if not node:
            self.error(node, path, "a plan needs at least one price")
        for currency, amount in node.items():
            if currency not in CURRENCIES:
                supported = ", ".join(CURRENCIES)
                message = f"unknown currency {currency!r} (supported: {supported})"
                self.error(node, f"{path}.{currency}", message)
            if not _is(amount, int) or not 0 < amount <= MAX_AMOUNT:
                given = json.dumps(amount)
                message = f"amounts are positive integers in minor units (400 is 4.00), not {given}"
                self.error(node, f"{path}.{currency}", message)
        return dict(node)

    def check_database(self):
        """What the file says against the database: tenants exist, pricing models stay."""
        slugs = {slug for slug, _, _ in self.tenant_refs}
        known = set(Tenant.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        for slug, node, path in self.tenant_refs:
            if slug not in known:
                self.error(node, path, f"unknown tenant {slug!r}")
        if not self.app_refs:
            return
        with_plans = (
            App.objects.keeping_pricing_model()
            .filter(
                publisher__slug__in={ref[0] for ref in self.app_refs},
                offer_id__in={ref[1] for ref in self.app_refs},
            )
            .values_list("publisher__slug", "offer_id", "pricing_model")
        )
        saved = {(slug, offer_id): model for slug, offer_id, model in with_plans}
        for slug, offer_id, pricing_model, node, path in self.app_refs:
            kept = saved.get((slug, offer_id))
            if refusal := pricing_model_refusal(kept=kept, wanted=pricing_model):
                self.error(node, f"{path}.pricing_model", refusal)
