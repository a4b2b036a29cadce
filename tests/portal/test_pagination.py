"""portal.pagination.page_of_ids gives the page Paginator.get_page gives, in one query."""

import pytest
from django.core.paginator import Paginator

from portal.models import Tenant
from portal.pagination import page_of_ids

ASKED = [None, "", "1", "2", "3", "4", "99", "0", "-1", "abc", "2.0", " 2 "]


@pytest.fixture
def tenants(db):
    Tenant.objects.bulk_create(
        Tenant(name=f"Tenant {i}", slug=f"page-{i:02}", country="US") for i in range(25)
    )
    return Tenant.objects.filter(slug__startswith="page-").order_by("slug")


@pytest.mark.parametrize("asked", ASKED)
def test_a_page_is_the_page_the_paginator_gives(tenants, asked):
    expected = Paginator(tenants.values_list("pk", flat=True), 10).get_page(asked)
    page = page_of_ids(tenants, asked, 10)
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (
        expected.number,
        expected.paginator.count,
        expected.paginator.num_pages,
    )
    assert page.object_list == list(expected.object_list)


@pytest.mark.parametrize("asked", ["1", "2", "3"])
def test_a_page_in_range_costs_one_query(tenants, asked, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = page_of_ids(tenants, asked, 10)
        assert page.paginator.count == 25


@pytest.mark.parametrize("asked", ["1", "2"])
def test_an_empty_list_has_one_empty_page(tenants, asked):
    page = page_of_ids(tenants.none(), asked, 10)
    assert (page.number, page.paginator.count, page.object_list) == (1, 0, [])
    page = page_of_ids(tenants.filter(slug="nobody"), asked, 10)
    assert (page.number, page.paginator.count, page.object_list) == (1, 0, [])
