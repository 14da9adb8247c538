"""Reports (docs/reports.md): report.grants, report.contributions and report.pipeline,
their totals against the fund's figures and the trial balance after a randomised history,
the suppression of small cells for partners, and bad requests."""

import csv
import io
import random

import pytest

from fl.client import api_of, create_principal, new_client
from fl.env import uniq
from fl.grants import apply, approve, confirm, create, days_ago, m, new_returnee, today
from fl.ledger import minor, new_fund, new_partner, tb_rows, trial_balance

DAY = today().isoformat()


def report(api, name, fund=None, by=(), **kw):
    params = {"from": DAY, "to": DAY, "by": list(by)}
    if fund is not None:
        params["fund"] = fund["code"]
    params.update(kw)
    return api.ok("report." + name, params)


def cells(rep, *dims):
    return {tuple(r[d] for d in dims): r for r in rep["rows"]}


def one_total(rep):
    assert len(rep["totals"]) == 1, rep["totals"]
    return rep["totals"][0]


@pytest.fixture(scope="module")
def checker(daemon, admin):
    with new_client(daemon, admin, ["admin"], "rep-chk") as c:
        yield c


def test_grants_by_region_and_category_sum_to_the_fund(api, appr, checker):
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "5000.00", "currency": "EUR"})
    sh = [apply(api, f, "100.00", returnee=new_returnee(api, region="AM-SH"))
          for _ in range(3)]
    lo = apply(api, f, "250.00", returnee=new_returnee(api, region="AM-LO"),
               category="agriculture")
    approve(appr, sh[0])
    approve(appr, lo)
    confirm(checker, create(api, lo, "100.00"))
    rep = report(api, "grants", f, by=["region", "category"])
    assert [c["name"] for c in rep["columns"]] == [
        "region", "category", "currency", "grants", "beneficiaries", "requested",
        "committed", "disbursed"], rep["columns"]
    c = cells(rep, "region", "category")
    assert set(c) == {("Shirak", "small_business"), ("Lori", "agriculture")}, c
    assert c[("Shirak", "small_business")]["grants"] == 3
    assert c[("Shirak", "small_business")]["requested"] == "300.00"
    assert c[("Shirak", "small_business")]["committed"] == "100.00"
    assert c[("Lori", "agriculture")]["committed"] == "150.00"
    assert c[("Lori", "agriculture")]["disbursed"] == "100.00"
    t = one_total(rep)
    assert t == {"currency": "EUR", "grants": 4, "beneficiaries": 4, "requested": "550.00",
                 "committed": "250.00", "disbursed": "100.00"}, t
    bal = api.ok("fund.balance", {"code": f["code"]})
    assert (t["committed"], t["disbursed"]) == (bal["committed"], bal["disbursed"])
    # by status, and decided only
    st = cells(report(api, "grants", f, by=["status"]), "status")
    assert {k: v["grants"] for k, v in st.items()} == {("approved",): 2, ("submitted",): 2}
    dec = report(api, "grants", f, dated="decided")
    assert one_total(dec)["grants"] == 2
    # the grants of a range that holds none
    empty = report(api, "grants", f, by=["region"], **{"from": "2020-01-01",
                                                       "to": "2020-12-31"})
    assert empty["rows"] == [] and empty["totals"] == []


def test_grants_by_beneficiary_kind_gender_age_and_time(api):
    f = new_fund(api, dual="100000")
    apply(api, f, "10.00", returnee=new_returnee(api, kind="refugee", gender="male",
                                                 birth_year=int(DAY[:4]) - 30))
    apply(api, f, "10.00", returnee=new_returnee(api, kind="displaced", gender="female",
                                                 birth_year=None))
    rep = report(api, "grants", f, by=["kind", "gender", "age_band", "month", "quarter",
                                       "year"])
    month, year = DAY[:7], DAY[:4]
    quarter = "%s-Q%d" % (year, (int(DAY[5:7]) - 1) // 3 + 1)
    got = {tuple(r[d] for d in ("kind", "gender", "age_band", "month", "quarter", "year"))
           for r in rep["rows"]}
    assert got == {("refugee", "male", "25-34", month, quarter, year),
                   ("displaced", "female", "unknown", month, quarter, year)}, got
    assert [c["type"] for c in rep["columns"] if c["name"] == "month"] == ["month"]


def test_a_partner_sees_small_cells_suppressed(env, daemon, admin, api):
    f = new_fund(api, dual="100000")
    regions = {"AM-SH": 6, "AM-LO": 5, "AM-KT": 2}
    for code, n in regions.items():
        for _ in range(n):
            apply(api, f, "10.00", returnee=new_returnee(api, region=code))
    donor = new_partner(api)
    pa = api_of(daemon, create_principal(daemon, admin, ["partner"],
                                         partner_id=donor["partner_id"]))
    with pa:
        rep = report(pa, "grants", f, by=["region"])
        c = cells(rep, "region")
        # Kotayk (2) is under the smallest cell; Lori hides with it, so that the totals
        # less Shirak tell a group of 7, not of 2
        assert c[("Shirak",)]["grants"] == 6 and c[("Shirak",)]["suppressed"] is False
        for r in ("Lori", "Kotayk"):
            assert c[(r,)]["suppressed"] is True, c
            assert c[(r,)]["grants"] is None and c[(r,)]["requested"] is None, c
        assert rep["suppressed"] == 2 and rep["min_cell"] == 5, rep
        assert one_total(rep)["grants"] == 13
        # gender with age band singles people out: refused for a partner
        pa.err("report.grants", {"from": DAY, "to": DAY, "by": ["gender", "age_band"]},
               -32602, field="by", reason="identifying_dimensions")
        # the other reports are the staff's
        pa.err("report.contributions", {"from": DAY, "to": DAY}, -32003,
               reason="role_required")
        pa.err("report.pipeline", {"from": DAY, "to": DAY}, -32003, reason="role_required")
    # staff see every cell
    staff = cells(report(api, "grants", f, by=["region"]), "region")
    assert staff[("Kotayk",)]["grants"] == 2 and "suppressed" not in staff[("Kotayk",)]
    # one small cell of two, smaller than the smallest cell together: all hidden, the
    # total too
    g = new_fund(api, dual="100000")
    for code in ("AM-SH", "AM-SH", "AM-LO"):
        apply(api, g, "10.00", returnee=new_returnee(api, region=code))
    with api_of(daemon, create_principal(daemon, admin, ["partner"],
                                         partner_id=donor["partner_id"])) as pa2:
        rep = report(pa2, "grants", g, by=["region"])
        assert all(r["suppressed"] for r in rep["rows"]) and rep["suppressed"] == 2, rep
        assert one_total(rep)["suppressed"] is True and one_total(rep)["grants"] is None


def test_contributions_by_country_with_donors(api):
    f = new_fund(api, dual="100000")
    fr = new_partner(api, country="FR")
    fr2 = new_partner(api, country="FR")
    am = new_partner(api, country="AM", kind="organisation")

    def receive(p, amount, **kw):
        params = {"partner_id": p["partner_id"], "fund": f["code"], "amount": amount,
                  "currency": "EUR"}
        params.update(kw)
        return api.ok("contribution.receive", params)

    receive(fr, "100.00")
    receive(fr, "300.00")
    wrong = receive(fr2, "50.00")
    api.ok("contribution.reverse", {"contribution_id": wrong["contribution_id"],
                                    "reason": "not ours"})
    pl = api.ok("contribution.pledge", {"partner_id": am["partner_id"], "fund": f["code"],
                                        "amount": "1000.00", "currency": "EUR"})
    api.ok("contribution.receive", {"contribution_id": pl["contribution_id"],
                                    "amount": "400.00"})
    rep = report(api, "contributions", f, by=["partner_country"])
    c = cells(rep, "partner_country")
    assert c[("FR",)]["received"] == "400.00" and c[("FR",)]["receipts"] == 2, c
    # a reversed receipt is no gift: its donor is neither counted nor new
    assert c[("FR",)]["donors"] == 1 and c[("FR",)]["new_donors"] == 1, c
    assert c[("FR",)]["median_gift"] == "100.00", c
    assert c[("AM",)]["pledged"] == "1000.00" and c[("AM",)]["outstanding"] == "600.00"
    assert c[("AM",)]["received"] == "400.00", c
    t = one_total(rep)
    bal = api.ok("fund.balance", {"code": f["code"]})
    assert t["received"] == bal["received"] == "800.00", (t, bal)
    assert t["outstanding"] == bal["pledged"] == "600.00", (t, bal)
    assert t["fund_currency"] == "EUR" and t["average_gift"] == "266.67", t
    # the original currency as a dimension adds the amounts in it
    usd = new_partner(api, country="US")
    receive(usd, "110.00", currency="USD", fx_rate="0.9")
    byc = cells(report(api, "contributions", f, by=["currency"]), "currency")
    assert byc[("USD",)]["received_original"] == "110.00", byc
    assert byc[("USD",)]["received"] == "99.00", byc


def test_contributions_new_and_retained_donors(api):
    f = new_fund(api, dual="100000")
    old, new = new_partner(api), new_partner(api)
    for p, ago in ((old, 20), (old, 5), (new, 3)):
        api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": "10.00", "currency": "EUR",
                                        "received_at": days_ago(ago)})
    # eleven days, and the eleven before them: the old donor gave in both
    t = one_total(report(api, "contributions", f, **{"from": days_ago(10)}))
    assert (t["donors"], t["new_donors"], t["retained_donors"]) == (2, 1, 1), t
    assert t["receipts"] == 2 and t["received"] == "20.00", t


def test_pipeline_statuses_and_rates(api, appr):
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1000.00", "currency": "EUR"})
    gs = [apply(api, f, "10.00") for _ in range(4)]
    approve(appr, gs[0])
    approve(appr, gs[1])
    appr.ok("grant.reject", {"grant_id": gs[2]["grant_id"], "reason": "incomplete"})
    rep = report(api, "pipeline", f, by=["category"])
    t = one_total(rep)
    assert (t["applications"], t["submitted"], t["approved"], t["rejected"]) == (4, 1, 2, 1)
    assert t["approval_rate"] == 0.6667 and t["waiting_0_7_days"] == 1, t
    assert t["median_days_to_decision"] == 0.0 and t["median_days_to_first_payment"] is None


def test_pipeline_days_to_first_payment(env, api, appr, checker):
    """A grant's first payment is its earliest paid disbursement, whatever order they were
    confirmed in; the database keeps it and refuses to move it later or without a
    payment."""
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1000.00", "currency": "EUR"})
    g = apply(api, f, "100.00")
    approve(appr, g)
    later = confirm(checker, create(api, g, "40.00"))
    t = one_total(report(api, "pipeline", f))
    assert t["median_days_to_first_payment"] == 0.0, t
    earlier = confirm(checker, create(api, g, "30.00"), paid_at="2026-01-01T00:00:00Z")
    q = ("SELECT first_paid_at = '%s', (SELECT min(paid_at) FROM fl.disbursement "
         "WHERE grant_id = g.grant_id AND status = 'paid') = first_paid_at "
         "FROM fl.grant_application g WHERE grant_id = '%s'")
    assert env.sql(q % (earlier["paid_at"], g["grant_id"])).strip() == "t|t"
    assert later["paid_at"] > earlier["paid_at"]
    t = one_total(report(api, "pipeline", f))
    assert t["median_days_to_first_payment"] < 0, t
    for bad in ("'%s'" % later["paid_at"], "NULL"):
        r = env.devenv("psql", env.dir, "-At", "-c",
                       "UPDATE fl.grant_application SET first_paid_at = %s "
                       "WHERE grant_id = '%s'" % (bad, g["grant_id"]), check=False)
        assert r.returncode != 0 and "first payment" in r.stderr, r.stderr


def test_contributions_donors_of_pledges(api):
    """A receipt of a pledge is a gift: its donor is new unless it gave before the range,
    and retained when it gave in the period before."""
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    pl = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": "100.00", "currency": "EUR",
                                        "pledged_at": days_ago(30)})
    for ago in (15, 2):
        api.ok("contribution.receive", {"contribution_id": pl["contribution_id"],
                                        "amount": "10.00", "received_at": days_ago(ago)})
    t = one_total(report(api, "contributions", f, **{"from": days_ago(10)}))
    assert (t["donors"], t["new_donors"], t["retained_donors"]) == (1, 0, 1), t
    t = one_total(report(api, "contributions", f, **{"from": days_ago(5)}))
    assert (t["donors"], t["new_donors"], t["retained_donors"]) == (1, 0, 0), t
    t = one_total(report(api, "contributions", f, **{"from": days_ago(20)}))
    assert (t["donors"], t["new_donors"], t["retained_donors"]) == (1, 1, 0), t


@pytest.mark.parametrize("name,params,field,reason", [
    ("grants", {"by": ["colour"]}, "by", "not_one_of_allowed_values"),
    ("grants", {"by": "region"}, "by", "not_an_array"),
    ("grants", {"by": ["region", "region"]}, "by", "repeated_dimension"),
    ("grants", {"from": "2026-02-01", "to": "2026-01-31"}, "to", "end_before_start"),
    ("grants", {"to": None}, "to", "missing"),
    ("grants", {"from": "2026-13-01"}, "from", None),
    ("grants", {"dated": "paid"}, "dated", "not_one_of_allowed_values"),
    ("contributions", {"by": ["gender"]}, "by", "not_one_of_allowed_values"),
    ("pipeline", {"by": ["status"]}, "by", "not_one_of_allowed_values"),
])
def test_bad_requests(api, name, params, field, reason):
    p = {"from": DAY, "to": DAY}
    p.update(params)
    api.err("report." + name, p, -32602, field=field, reason=reason)


def test_an_unknown_fund_is_not_found(api):
    for name in ("grants", "contributions", "pipeline"):
        api.err("report." + name, {"from": DAY, "to": DAY, "fund": "NO-SUCH-FUND"}, -32004,
                field="fund", reason="fund_not_found")


def test_too_many_rows_is_refused(env):
    """More than 10,000 rows is refused; the dimensions of a real programme stay far below
    it, so the rule is checked on the answer's assembly (fl.report_answer) directly."""
    q = ("SELECT fl.report_answer('grants', ARRAY['region'], '[]', (SELECT jsonb_agg("
         "jsonb_build_object('region', 'r' || g, '_total', false)) FROM generate_series(1, "
         "%d) g))->'rows'->>-1")
    assert env.sql(q % 10000).strip() == '{"region": "r10000"}'
    p = env.devenv("psql", env.dir, "-At", "-c", q % 10001, check=False)
    assert p.returncode != 0 and "too_many_rows" in p.stderr, p.stderr


def test_totals_match_the_journal_after_a_random_history(env, daemon, admin, api, appr,
                                                          checker):
    rnd = random.Random(18)
    f = new_fund(api, dual="100000")
    partners = [new_partner(api, country=c) for c in ("AM", "FR", "RU", "US")]
    pledges, grants, paid = [], [], []
    api.ok("contribution.receive", {"partner_id": partners[0]["partner_id"],
                                    "fund": f["code"], "amount": "2000.00",
                                    "currency": "EUR"})
    for _ in range(60):
        op = rnd.choice(["receive", "receive", "pledge", "pledge_receive", "reverse",
                         "apply", "approve", "pay", "refund", "reject"])
        pa = rnd.choice(partners)["partner_id"]
        amt = "%d.%02d" % (rnd.randint(1, 300), rnd.randint(0, 99))
        if op == "receive":
            api.ok("contribution.receive", {"partner_id": pa, "fund": f["code"],
                                            "amount": amt, "currency": "EUR"})
        elif op == "pledge":
            pledges.append(api.ok("contribution.pledge", {
                "partner_id": pa, "fund": f["code"], "amount": amt,
                "currency": "EUR"})["contribution_id"])
        elif op == "pledge_receive" and pledges:
            cid = rnd.choice(pledges)
            c = api.ok("contribution.get", {"contribution_id": cid})
            if c["status"] == "pledged":
                api.ok("contribution.receive", {"contribution_id": cid,
                                                "amount": "%.2f" % (m(c["amount"]) / 200)})
        elif op == "reverse":
            c = api.ok("contribution.receive", {"partner_id": pa, "fund": f["code"],
                                                "amount": amt, "currency": "EUR"})
            api.reply("contribution.reverse", {"contribution_id": c["contribution_id"],
                                               "reason": "wrong"})
        elif op == "apply":
            grants.append(apply(api, f, amt, returnee=new_returnee(
                api, region=rnd.choice(["AM-SH", "AM-LO", "AM-ER"]))))
        elif op in ("approve", "reject") and grants:
            g = rnd.choice(grants)
            if op == "approve":
                appr.reply("grant.approve", {"grant_id": g["grant_id"]})
            else:
                appr.reply("grant.reject", {"grant_id": g["grant_id"], "reason": "no"})
        elif op == "pay" and grants:
            g = api.ok("grant.get", {"grant_id": rnd.choice(grants)["grant_id"]})
            if g["status"] == "approved" and m(g["committed"]) >= 100:
                paid.append(confirm(checker, create(api, g, "1.00")))
        elif op == "refund" and paid:
            api.reply("disbursement.refund", {"disbursement_id":
                                              rnd.choice(paid)["disbursement_id"],
                                              "amount": "0.50", "reason": "back"})
    bal = api.ok("fund.balance", {"code": f["code"]})
    tb = tb_rows(trial_balance(api, "EUR"), f["code"] + ":", "EUR")

    def credit(acct):
        d, c = tb.get(f["code"] + ":" + acct, (0, 0))
        return c - d

    def debit(acct):
        d, c = tb.get(f["code"] + ":" + acct, (0, 0))
        return d - c

    every = {"from": "2000-01-01", "to": DAY}
    for by in ([], ["region"], ["status", "month"]):
        g = one_total(report(api, "grants", f, by=by, **every))
        assert g["committed"] == bal["committed"], (by, g, bal)
        assert g["disbursed"] == bal["disbursed"], (by, g, bal)
        assert minor(g["committed"], "EUR") == credit("commitments")
        assert minor(g["disbursed"], "EUR") == debit("grants_disbursed")
    for by in ([], ["partner_country"], ["partner_kind", "year"]):
        c = one_total(report(api, "contributions", f, by=by, **every))
        assert c["received"] == bal["received"], (by, c, bal)
        assert c["outstanding"] == bal["pledged"], (by, c, bal)
        assert minor(c["received"], "EUR") == credit("contributions")
        assert minor(c["outstanding"], "EUR") == debit("pledges_receivable")
    # the gifts of each cell (direct receipts that stand, receipts of pledges) against
    # the same figures computed here from the contributions, each gift a row
    oracle = {}
    for line in env.sql(
            "WITH g AS (SELECT c.partner_id, c.received_at AS t, c.fund_amount AS amt "
            "FROM fl.contribution c WHERE c.fund_code = '%(f)s' AND c.pledged_at IS NULL "
            "AND c.status <> 'reversed' UNION ALL SELECT c.partner_id, r.received_at, "
            "r.fund_amount FROM fl.pledge_receipt r JOIN fl.contribution c "
            "USING (contribution_id) WHERE r.fund_code = '%(f)s') "
            "SELECT coalesce(p.country, '*'), count(DISTINCT g.partner_id), "
            "percentile_disc(0.5) WITHIN GROUP (ORDER BY g.amt), round(avg(g.amt)) "
            "FROM g JOIN fl.partner p USING (partner_id) "
            "GROUP BY GROUPING SETS ((p.country), ())" % {"f": f["code"]}).split():
        k, donors, median, avg = line.split("|")
        oracle[k] = (int(donors), int(median), int(avg))
    rep = report(api, "contributions", f, by=["partner_country"], **every)
    got = {r["partner_country"]: r for r in rep["rows"]}
    got["*"] = one_total(rep)
    assert set(got) == set(oracle), (got, oracle)
    for k, r in got.items():
        assert (r["donors"], minor(r["median_gift"], "EUR"),
                minor(r["average_gift"], "EUR")) == oracle[k], (k, r, oracle[k])
    pipe = one_total(report(api, "pipeline", f, **every))
    assert pipe["applications"] == len(grants)


# ---------------------------------------------------------------------------------------
# GET /export/report


def export(api, query, token=None):
    return api.request("GET", "/export/report?" + query, token=token)


def xlsx_cells(body):
    """{cell ref: (type, value)} of the first sheet of an XLSX workbook, with shared strings
    resolved, and the number format id of each cell's style."""
    import xml.etree.ElementTree as ET
    import zipfile
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    z = zipfile.ZipFile(io.BytesIO(body))
    strings = [si.find("s:t", ns).text for si in
               ET.fromstring(z.read("xl/sharedStrings.xml")).findall("s:si", ns)]
    styles = ET.fromstring(z.read("xl/styles.xml"))
    fmts = {f.get("numFmtId"): f.get("formatCode") for f in
            styles.findall("s:numFmts/s:numFmt", ns)}
    xfs = [x.get("numFmtId") for x in styles.findall("s:cellXfs/s:xf", ns)]
    out = {}
    for c in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter(
            "{%s}c" % ns["s"]):
        v = c.find("s:v", ns)
        fmt = fmts.get(xfs[int(c.get("s", "0"))])
        if c.get("t") == "s":
            out[c.get("r")] = ("s", strings[int(v.text)], fmt)
        elif c.get("t") == "b":
            out[c.get("r")] = ("b", v.text == "1", fmt)
        else:
            out[c.get("r")] = ("n", float(v.text), fmt)
    return out


def test_export_report_csv_and_xlsx(api, appr):
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "5000.00", "currency": "EUR"})
    for code, amt in (("AM-SH", "100.50"), ("AM-SH", "20.00"), ("AM-VD", "7.25")):
        apply(api, f, amt, returnee=new_returnee(api, region=code))
    q = "name=grants&from=%s&to=%s&by=region,month&fund=%s" % (DAY, DAY, f["code"])
    r = export(api, q)
    assert r.status == 200 and r.content_type.startswith("text/csv"), r
    assert "attachment" in r.header("Content-Disposition"), r.headers
    rows = list(csv.reader(io.StringIO(r.body.decode())))
    assert rows[0] == ["region", "month", "currency", "grants", "beneficiaries",
                       "requested", "committed", "disbursed"], rows
    assert rows[1:] == [
        ["Shirak", DAY[:7], "EUR", "2", "2", "120.50", "0.00", "0.00"],
        ["Vayots Dzor", DAY[:7], "EUR", "1", "1", "7.25", "0.00", "0.00"],
        ["Total", "", "EUR", "3", "3", "127.75", "0.00", "0.00"]], rows
    # the same rows as JSON-RPC answers them
    rep = report(api, "grants", f, by=["region", "month"])
    assert [r_["requested"] for r_ in rep["rows"]] == ["120.50", "7.25"]
    # XLSX: numbers as numbers with the currency's decimals, the month as a date
    x = export(api, q + "&format=xlsx")
    assert x.status == 200 and x.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), x
    cells = xlsx_cells(x.body)
    assert cells["A1"][:2] == ("s", "region") and cells["F1"][:2] == ("s", "requested")
    assert cells["A2"][:2] == ("s", "Shirak") and cells["D2"][:2] == ("n", 2.0)
    assert cells["F2"] == ("n", 120.5, "#,##0.00"), cells["F2"]
    assert cells["B2"][0] == "n" and cells["B2"][2] == "yyyy-mm", cells["B2"]
    assert cells["A4"][:2] == ("s", "Total") and cells["F4"][1] == 127.75, cells


def test_export_report_refusals(env, daemon, admin, api):
    donor = new_partner(api)
    pa = api_of(daemon, create_principal(daemon, admin, ["partner"],
                                         partner_id=donor["partner_id"]))
    with pa:
        r = export(pa, "name=contributions&from=%s&to=%s" % (DAY, DAY))
        assert r.status == 403 and r.json()["error"]["data"]["reason"] == "role_required"
        r = export(pa, "name=grants&from=%s&to=%s&by=gender,age_band" % (DAY, DAY))
        assert r.status == 400, r
        assert r.json()["error"]["data"]["reason"] == "identifying_dimensions"
    r = export(api, "name=grants&from=%s&to=%s&by=colour" % (DAY, DAY))
    assert r.status == 400 and r.json()["error"]["data"]["field"] == "by", r
    r = export(api, "name=grants&from=2026-02-01&to=2026-01-01")
    assert r.status == 400 and r.json()["error"]["data"]["reason"] == "end_before_start"
    for q in ("name=lottery&from=%s&to=%s" % (DAY, DAY), "from=%s&to=%s" % (DAY, DAY),
              "name=grants&format=pdf&from=%s&to=%s" % (DAY, DAY),
              "name=grants&name=grants"):
        assert export(api, q).status == 400, q
    r = export(api, "name=grants&from=%s&to=%s" % (DAY, DAY), token="not-a-token")
    assert r.status == 401, r
