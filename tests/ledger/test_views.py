"""The points pages: a member's own points, the community ledger and CSV, adjustments, reversals,
star ratings and the points policy, each for the right role and refused for the others."""

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.database import begin_write
from volunteer.extensions import db
from volunteer.ledger import services
from volunteer.ledger.models import LedgerEntry, PointsAccount, PointsPolicy
from volunteer.ledger.verify import mismatches

from .. import factories
from ..conftest import login, text

_keys = iter(range(1, 10**9))


def earn(user, community, points, *, at=None, memo="志愿服务", kind="earn_service") -> LedgerEntry:
    begin_write()
    account = services.account_for(user.id, community.id)
    posting = services.earn(account, points, kind=kind, key=f"t-earn:{next(_keys)}", memo=memo, at=at)
    db.session.commit()
    return posting.entry


def hold(user, community, points) -> LedgerEntry:
    begin_write()
    account = services.account_for(user.id, community.id)
    posting = services.hold(account, points, key=f"t-hold:{next(_keys)}", memo="兑换预约")
    db.session.commit()
    return posting.entry


def spend(user, community, points) -> LedgerEntry:
    begin_write()
    account = services.account_for(user.id, community.id)
    posting = services.spend(account, points, key=f"t-spend:{next(_keys)}", from_hold=False, memo="兑换大米")
    db.session.commit()
    return posting.entry


def account(user, community) -> PointsAccount:
    db.session.expire_all()
    return services.find_account(user.id, community.id)


def entries(kind=None) -> int:
    stmt = select(func.count(LedgerEntry.id))
    if kind:
        stmt = stmt.where(LedgerEntry.kind == kind)
    return db.session.scalar(stmt)


def data_value(body: str, attr: str) -> str:
    match = re.search(rf"data-{attr}[^>]*>([^<]*)<", body)
    assert match, f"no data-{attr} in page"
    return match.group(1).strip()


# --- a member's own points ------------------------------------------------------------------------


def test_points_page_shows_own_balance_history_and_rating(browse, district):
    d = district
    earn(d.resident_a, d.a, 50, memo="帮老人买菜")
    hold(d.resident_a, d.a, 10)
    earn(d.resident_b, d.b, 999, memo="李四的积分")
    body = text(browse(d.resident_a).get("/points"))
    assert data_value(body, "available") == "40"
    assert data_value(body, "held") == "10"
    assert data_value(body, "balance") == "50"
    assert "帮老人买菜" in body and "+50" in body
    assert data_value(body, "earned") == "50"
    assert data_value(body, "score") == "25 / 100"  # 50 of the default 200 points
    assert 'data-stars="2"' in body  # 25 >= 20
    assert "李四的积分" not in body and "999" not in body


def test_points_page_warns_of_points_expiring_soon(browse, district):
    d = district
    today = date.today()
    last_year = datetime(today.year - 1, 6, 1, tzinfo=UTC)
    earn(d.resident_a, d.a, 30, at=last_year)
    body = text(browse(d.resident_a).get("/points"))
    days_left = (date(today.year, 12, 31) - today).days
    if days_left <= 30:
        assert 'data-expiring="30"' in body
    else:
        assert "data-expiring" not in body


def test_points_page_per_community_and_another_community_is_404(browse, district):
    d = district
    factories.grant(d.resident_a, "volunteer", community_=d.b)
    earn(d.resident_a, d.a, 10)
    earn(d.resident_a, d.b, 70)
    client = browse(d.resident_a)
    assert data_value(text(client.get(f"/points?community={d.b.id}")), "available") == "70"
    assert data_value(text(client.get(f"/points?community={d.a.id}")), "available") == "10"
    assert client.get(f"/points?community={d.c.id}").status_code == 404
    assert client.get("/points?community=abc").status_code == 404


def test_points_page_without_any_community(browse, district):
    body = text(browse(district.employer_a).get("/points"))
    assert "You have no points yet" in body


def test_home_shows_points_card(browse, district):
    earn(district.resident_a, district.a, 120)
    body = text(browse(district.resident_a).get("/"))
    assert data_value(body, "available") == "120"
    assert "score 60, 4 of 5 stars" in body


# --- the community ledger -------------------------------------------------------------------------


def _ledger_data(d):
    earn(d.resident_a, d.a, 100, memo="扫雪")
    earn(d.member_a, d.a, 40, memo="讲座", kind="earn_credit")
    spend(d.resident_a, d.a, 30)
    hold(d.member_a, d.a, 15)
    earn(d.resident_b, d.b, 500, memo="和平社区积分")


def test_community_ledger_lists_entries_and_totals(browse, district):
    d = district
    _ledger_data(d)
    body = text(browse(d.admin_a).get(f"/communities/{d.a.id}/ledger"))
    assert "扫雪" in body and "讲座" in body and "张三" in body
    assert d.resident_a.phone not in body and "139****" in body or d.resident_a.phone[:3] in body
    assert "和平社区积分" not in body and "李四" not in body
    assert data_value(body, 'total="issued"') == "140"
    assert data_value(body, 'total="spent"') == "30"
    assert data_value(body, 'total="held"') == "+15"
    assert data_value(body, 'total="held-now"') == "15"


def test_community_ledger_filters(browse, district):
    d = district
    _ledger_data(d)
    client = browse(d.admin_a)
    body = text(client.get(f"/communities/{d.a.id}/ledger?kind=spend"))
    assert "兑换大米" in body and "扫雪" not in body
    assert data_value(body, 'total="spent"') == "30" and data_value(body, 'total="issued"') == "0"
    body = text(client.get(f"/communities/{d.a.id}/ledger?q=王党员"))
    assert "讲座" in body and "扫雪" not in body
    body = text(client.get(f"/communities/{d.a.id}/ledger?q={d.resident_a.phone[-4:]}"))
    assert "扫雪" in body and "讲座" not in body
    today = date.today()
    body = text(client.get(f"/communities/{d.a.id}/ledger?from={today + timedelta(days=2)}"))
    assert "No entries match." in body
    body = text(client.get(f"/communities/{d.a.id}/ledger?from={today - timedelta(days=2)}&to={today}"))
    assert "扫雪" in body


@pytest.mark.parametrize(
    "query",
    ["kind=steal", "from=2026-02-30", "to=yesterday", "from=1999-01-01", "from=2026-03-02&to=2026-03-01"],
)
def test_bad_ledger_filters_give_a_message(browse, district, query):
    d = district
    _ledger_data(d)
    response = browse(d.admin_a).get(f"/communities/{d.a.id}/ledger?{query}")
    assert response.status_code == 400
    assert 'class="flash flash-error"' in text(response) and "扫雪" not in text(response)
    assert browse(d.admin_a).get(f"/communities/{d.a.id}/ledger.csv?{query}").status_code == 400


def test_csv_export_of_filtered_entries(browse, district):
    d = district
    _ledger_data(d)
    earn(d.resident_a, d.a, 5, memo="=HYPERLINK(1)")
    response = browse(d.admin_a).get(f"/communities/{d.a.id}/ledger.csv?kind=earn_service")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Time", "Name", "Phone", "Kind", "Points", "Held change", "Memo", "Source", "Actor"]
    body = rows[1:]
    assert len(body) == 2
    assert {r[6] for r in body} == {"扫雪", "'=HYPERLINK(1)"}  # a formula is not run by Excel
    assert all(r[1] == "张三" and r[2] == "139****" + d.resident_a.phone[-4:] for r in body)
    assert sorted(int(r[4]) for r in body) == [5, 100]
    assert all(d.resident_a.phone not in ",".join(r) for r in rows)


def test_csv_in_chinese_has_chinese_header(make_client, district):
    d = district
    _ledger_data(d)
    client = make_client()
    login(client, d.admin_a)
    raw = client.get(f"/communities/{d.a.id}/ledger.csv").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 1 + 4 and "张三" in {r[1] for r in rows}


# --- manual adjustment ----------------------------------------------------------------------------


def _adjust(client, d, phone, points, reason="核对补录", token=None):
    token = token or str(uuid.uuid4())
    url = f"/communities/{d.a.id}/adjust"
    return client.post(url, data={"phone": phone, "points": points, "reason": reason, "token": token})


def test_adjust_form_carries_a_one_time_token(browse, district):
    body = text(browse(district.admin_a).get(f"/communities/{district.a.id}/adjust"))
    token = re.search(r'name="token"[^>]*value="([^"]+)"', body) or re.search(r'value="([^"]+)"[^>]*name="token"', body)
    assert token and uuid.UUID(token.group(1))


def test_adjust_positive_and_negative_audited(browse, district):
    d = district
    client = browse(d.admin_a)
    response = _adjust(client, d, d.resident_a.phone, 25)
    assert response.status_code == 303
    assert account(d.resident_a, d.a).available == 25
    response = _adjust(client, d, d.resident_a.phone, -10, reason="重复发放")
    assert response.status_code == 303
    assert "recorded. Available now: 15." in text(client.get(response.headers["Location"]))
    acct = account(d.resident_a, d.a)
    assert (acct.balance, acct.held) == (15, 0)
    memos = db.session.scalars(select(LedgerEntry.memo).where(LedgerEntry.kind == "adjust")).all()
    assert sorted(memos) == ["核对补录", "重复发放"]
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "points.adjust")).all()
    assert len(audits) == 2 and {a.actor_id for a in audits} == {d.admin_a.id}
    assert mismatches() == []


def test_double_submit_with_same_token_gives_one_entry(browse, district):
    d = district
    client = browse(d.admin_a)
    token = str(uuid.uuid4())
    first = _adjust(client, d, d.resident_a.phone, 30, token=token)
    second = _adjust(client, d, d.resident_a.phone, 30, token=token)
    assert first.status_code == second.status_code == 303
    assert entries("adjust") == 1 and account(d.resident_a, d.a).balance == 30
    assert "already recorded" in text(client.get(second.headers["Location"]))


def test_overdraft_refused_and_nothing_changes(browse, district):
    d = district
    earn(d.resident_a, d.a, 20)
    hold(d.resident_a, d.a, 15)
    before = entries()
    response = _adjust(browse(d.admin_a), d, d.resident_a.phone, -10)
    assert response.status_code == 400
    assert "Not enough points available" in text(response)
    acct = account(d.resident_a, d.a)
    assert (acct.balance, acct.held) == (20, 15) and entries() == before
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "points.adjust")) == 0


@pytest.mark.parametrize(
    ("points", "reason", "message"),
    [
        ("0", "原因", "other than zero"),
        ("10001", "原因", "between -10000 and 10000"),
        ("-10001", "原因", "between -10000 and 10000"),
        ("5", "", "This field is required."),
        ("abc", "原因", "integer"),
    ],
)
def test_adjust_bad_values_refused(browse, district, points, reason, message):
    d = district
    response = _adjust(browse(d.admin_a), d, d.resident_a.phone, points, reason=reason)
    assert response.status_code == 400 and message in text(response)
    assert entries() == 0


def test_adjust_someone_outside_the_community_refused(browse, district):
    d = district
    client = browse(d.admin_a)
    for phone in (d.resident_b.phone, "13900000000"):
        response = _adjust(client, d, phone, 10)
        assert response.status_code == 400
        assert "Nobody with this number lives in or holds a role in this community." in text(response)
    assert entries() == 0
    # A steward of a (no home there) may be given points.
    assert _adjust(client, d, d.steward_a.phone, 10).status_code == 303


def test_adjust_with_a_forged_token_refused(browse, district):
    d = district
    response = _adjust(browse(d.admin_a), d, d.resident_a.phone, 10, token="not-a-token")
    assert response.status_code == 400 and "This form has expired" in text(response)
    assert entries() == 0


# --- reversal -------------------------------------------------------------------------------------


def test_reverse_an_entry_once(browse, district):
    d = district
    entry = earn(d.resident_a, d.a, 40)
    client = browse(d.admin_a)
    assert "Reverse" in text(client.get(f"/communities/{d.a.id}/ledger"))
    response = client.post(f"/ledger/entries/{entry.id}/reverse", data={"reason": "录错了"})
    assert response.status_code == 303
    assert account(d.resident_a, d.a).balance == 0 and entries("reversal") == 1
    again = client.post(f"/ledger/entries/{entry.id}/reverse", data={"reason": "再来一次"})
    assert again.status_code == 400 and "already been reversed" in text(again)
    reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reversal"))
    refused = client.post(f"/ledger/entries/{reversal.id}/reverse", data={"reason": "撤销撤销"})
    assert refused.status_code == 400 and "A reversal cannot itself be reversed." in text(refused)
    assert "A reversal cannot itself be reversed." in text(client.get(f"/ledger/entries/{reversal.id}/reverse"))
    assert entries("reversal") == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "points.reverse")) == 1


def test_reverse_needs_a_reason_and_refuses_overdraft(browse, district):
    d = district
    entry = earn(d.resident_a, d.a, 40)
    spend(d.resident_a, d.a, 30)
    client = browse(d.admin_a)
    response = client.post(f"/ledger/entries/{entry.id}/reverse", data={"reason": ""})
    assert response.status_code == 400 and "This field is required." in text(response)
    response = client.post(f"/ledger/entries/{entry.id}/reverse", data={"reason": "发错了"})
    assert response.status_code == 400 and "Not enough points available" in text(response)
    assert account(d.resident_a, d.a).balance == 10 and entries("reversal") == 0


# --- star ratings ---------------------------------------------------------------------------------


def _ranking_data(d):
    extra = [factories.resident(d.building_a, name=f"居民{i}") for i in range(22)]
    for i, person in enumerate(extra):
        earn(person, d.a, 1 + i)
    earn(d.resident_a, d.a, 180)  # score 90: 5 stars
    earn(d.member_a, d.a, 70)  # score 35: 2 stars
    earn(d.resident_b, d.b, 400)
    return extra


def test_ranking_for_admin_lists_everyone_in_order(browse, district):
    d = district
    _ranking_data(d)
    body = text(browse(d.admin_a).get(f"/communities/{d.a.id}/ranking"))
    users = [int(u) for u in re.findall(r'data-user="(\d+)"', body)]
    assert users[:2] == [d.resident_a.id, d.member_a.id] and len(users) == 24
    assert re.findall(r'data-stars="(\d)"', body)[:2] == ["5", "2"]
    assert "李四" not in body and d.resident_a.phone not in body


def test_ranking_for_residents_shows_top_20_masked(browse, district):
    d = district
    _ranking_data(d)
    body = text(browse(d.resident_a).get(f"/communities/{d.a.id}/ranking"))
    assert len(re.findall(r'data-user="(\d+)"', body)) == 20
    assert "张三" in body and d.member_a.phone not in body and d.member_a.phone[-4:] in body
    assert "/members/" not in body  # no links to admin pages


def test_ranking_of_another_community_refused(browse, district):
    d = district
    _ranking_data(d)
    for user in (d.resident_a, d.admin_a):
        response = browse(user).get(f"/communities/{d.b.id}/ranking")
        assert response.status_code == 404 and "李四" not in text(response)
    assert browse(d.organiser_a).get(f"/communities/{d.b.id}/ranking").status_code == 200


def test_ranking_bad_year(browse, district):
    response = browse(district.admin_a).get(f"/communities/{district.a.id}/ranking?year=abc")
    assert response.status_code == 400 and "Choose a year between 2000 and 2100." in text(response)


def test_member_rating_page(browse, district):
    d = district
    earn(d.member_a, d.a, 130)
    last_year = datetime(date.today().year - 1, 5, 1, tzinfo=UTC)
    earn(d.member_a, d.a, 20, at=last_year)
    client = browse(d.admin_a)
    body = text(client.get(f"/communities/{d.a.id}/members/{d.member_a.id}"))
    assert data_value(body, "earned") == "130" and data_value(body, "score") == "65 / 100"
    assert 'data-stars="4"' in body and data_value(body, "balance") == "150"
    body = text(client.get(f"/communities/{d.a.id}/members/{d.member_a.id}?year={last_year.year}"))
    assert data_value(body, "earned") == "20" and 'data-stars="1"' in body
    assert client.get(f"/communities/{d.a.id}/members/{d.resident_b.id}").status_code == 404
    assert client.get(f"/communities/{d.b.id}/members/{d.resident_b.id}").status_code == 404


# --- the points policy ----------------------------------------------------------------------------


def _policy(client, d, **over):
    data = {"expiry_mode": "never", "full_score_points": "100", "stars2": "10", "stars3": "30", "stars4": "50"}
    data["stars5"] = "70"
    data.update(over)
    return client.post(f"/communities/{d.a.id}/points-policy", data=data)


def test_policy_saved_audited_and_changes_stars(browse, district):
    d = district
    earn(d.resident_a, d.a, 60)  # default: score 30, 2 stars
    client = browse(d.admin_a)
    assert re.findall(r'data-stars="(\d)"', text(client.get(f"/communities/{d.a.id}/ranking"))) == ["2"]
    assert _policy(client, d).status_code == 303
    policy = db.session.get(PointsPolicy, d.a.id)
    assert (policy.expiry_mode, policy.full_score_points, policy.star_thresholds) == ("never", 100, [10, 30, 50, 70])
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "points.policy"))
    assert audit.before is None and audit.after["star_thresholds"] == [10, 30, 50, 70]
    body = text(client.get(f"/communities/{d.a.id}/ranking"))
    assert re.findall(r'data-stars="(\d)"', body) == ["4"]  # score 60 under the new policy: 10, 30, 50
    assert _policy(client, d, full_score_points="200").status_code == 303
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "points.policy")).all()
    assert len(audits) == 2 and audits[1].before["full_score_points"] == 100


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"stars3": "5"}, "Each threshold must be higher than the one before."),
        ({"stars5": "50"}, "Each threshold must be higher than the one before."),
        ({"stars5": "101"}, "Enter a score between 1 and 100."),
        ({"stars2": "0"}, "Enter a score between 1 and 100."),
        ({"full_score_points": "0"}, "Enter a number between 1 and 100000."),
        ({"expiry_mode": "sometimes"}, "Not a valid choice"),
    ],
)
def test_policy_validation(browse, district, over, message):
    d = district
    response = _policy(browse(d.admin_a), d, **over)
    assert response.status_code == 400 and message in text(response)
    assert db.session.get(PointsPolicy, d.a.id) is None


# --- other communities and roles ------------------------------------------------------------------


def test_other_community_pages_refused_and_show_nothing(browse, district):
    d = district
    entry_b = earn(d.resident_b, d.b, 77, memo="和平秘密备注")
    urls = [
        f"/communities/{d.b.id}/ledger",
        f"/communities/{d.b.id}/ledger.csv",
        f"/communities/{d.b.id}/adjust",
        f"/communities/{d.b.id}/points-policy",
        f"/communities/{d.b.id}/members/{d.resident_b.id}",
        f"/ledger/entries/{entry_b.id}/reverse",
    ]
    for user in (d.admin_a, d.resident_a, d.steward_a):
        client = browse(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code in (403, 404), (user.name, url, response.status_code)
            assert "和平秘密备注" not in text(response) and "李四" not in text(response)
        post = client.post(f"/ledger/entries/{entry_b.id}/reverse", data={"reason": "x"})
        assert post.status_code in (403, 404)
        post = client.post(
            f"/communities/{d.b.id}/adjust",
            data={"phone": d.resident_b.phone, "points": 5, "reason": "x", "token": str(uuid.uuid4())},
        )
        assert post.status_code in (403, 404)
    assert entries() == 1 and account(d.resident_b, d.b).balance == 77


def test_non_admins_cannot_open_admin_pages(browse, district):
    d = district
    client = browse(d.resident_a)
    assert client.get("/ledger").status_code == 403
    assert client.get(f"/communities/{d.a.id}/ledger").status_code == 403
    assert client.get(f"/communities/{d.a.id}/adjust").status_code == 403
    assert client.get(f"/communities/{d.a.id}/points-policy").status_code == 403


def test_organiser_covering_the_community_sees_its_ledger(browse, district):
    d = district
    earn(d.resident_b, d.b, 33, memo="东二积分")
    body = text(browse(d.organiser_a).get(f"/communities/{d.b.id}/ledger"))
    assert "东二积分" in body
    assert browse(d.organiser_a).get(f"/communities/{d.c.id}/ledger").status_code == 404


def test_ledger_index_lists_admin_communities(browse, district):
    d = district
    body = text(browse(d.admin_a).get("/ledger"))
    assert "东一社区" in body and "东二社区" not in body


def test_user_profile_shows_points_and_stars_to_the_admin(client, district):
    from volunteer.core.database import begin_write
    from volunteer.ledger import services as ledger_services

    from ..conftest import english, login

    begin_write()
    account = ledger_services.account_for(district.resident_a.id, district.a.id)
    ledger_services.earn(account, 120, kind="earn_credit", key="profile-stars")
    db.session.commit()
    english(client)
    login(client, district.admin_a)
    page = client.get(f"/admin/users/{district.resident_a.id}").get_data(as_text=True)
    assert "Points and star rating" in page
    assert "120 available" in page
    assert f"/communities/{district.a.id}/members/{district.resident_a.id}" in page
