import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from agencies.models import Agency, AgencyAlias, Liaison


def test_agency_name_is_unique_within_a_jurisdiction(finance):
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.create(name="区金融局", jurisdiction="东丽区")


def test_the_same_name_may_exist_in_two_jurisdictions(finance):
    other = Agency.objects.create(name="区金融局", jurisdiction="江津区")
    assert str(other) == "区金融局(江津区)"
    assert Agency.objects.filter(name="区金融局").count() == 2


def test_str_does_not_repeat_a_jurisdiction_already_in_the_name(db):
    agency = Agency.objects.create(name="江津区市场监管局", jurisdiction="江津区")
    assert str(agency) == "江津区市场监管局"


def test_alias_is_unique_per_agency(finance):
    AgencyAlias.objects.create(agency=finance, name="东丽区金融局")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgencyAlias.objects.create(agency=finance, name="东丽区金融局")


def test_deleting_an_agency_with_tasks_is_refused(finance_task, finance):
    with pytest.raises(ProtectedError):
        finance.delete()
    assert Agency.objects.filter(pk=finance.pk).exists()


def test_deleting_an_agency_without_tasks_removes_its_aliases(finance):
    AgencyAlias.objects.create(agency=finance, name="东丽区金融局")
    finance.delete()
    assert not AgencyAlias.objects.exists()


def test_a_user_is_liaison_of_an_agency_once(alice, finance):
    with pytest.raises(IntegrityError), transaction.atomic():
        Liaison.objects.create(user=alice, agency=finance, email="again@example.gov.cn")


def test_a_user_may_serve_several_agencies(alice, science):
    Liaison.objects.create(user=alice, agency=science, email="alice@example.gov.cn")
    assert set(alice.liaisons.values_list("agency__name", flat=True)) == {"区金融局", "区科技局"}


def test_group_agency_lists_members(db):
    group = Agency.objects.create(
        name="各县、区政府", jurisdiction="亳州市", is_group=True, kind=Agency.Kind.GROUP
    )
    county = Agency.objects.create(name="涡阳县政府", jurisdiction="亳州市", kind=Agency.Kind.GOVERNMENT)
    group.members.add(county)
    assert list(county.groups.all()) == [group]
    assert list(county.members.all()) == []


def test_natural_keys_round_trip(finance):
    alias = AgencyAlias.objects.create(agency=finance, name="东丽区金融局")
    assert Agency.objects.get_by_natural_key(*finance.natural_key()) == finance
    assert AgencyAlias.objects.get_by_natural_key(*alias.natural_key()) == alias
