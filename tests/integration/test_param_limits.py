"""Every text param's limit, as daemon/methods.c declares it, is one the database holds:
for each text, name, email and code param of each method (read from methods.c, so that a
new param or a changed limit is covered without editing this file), a value of exactly the
limit, in characters of one, two and four UTF-8 bytes, is taken (never -32603, never
too_long), and one character more is -32602 too_long. A method whose params this file has
no recipe for fails the test: write one."""

import os
import re

import pytest

from fl.client import Client, api_of, assert_error, create_principal
from fl.env import ROOT, remember_token, uniq
from fl.grants import returnee_params

METHODS_C = os.path.join(ROOT, "daemon", "methods.c")
TEXTLIKE = ("PT_TEXT", "PT_NAME", "PT_EMAIL", "PT_CODE")
CHARS = ("x", "\u0531", "\U0001f600")      # 1, 2 and 4 bytes in UTF-8


def text_params():
    """[(method, param, type, max)] of every text-like param in daemon/methods.c."""
    src = open(METHODS_C).read()
    arrays = {}
    for m in re.finditer(r"static const struct param (\w+)\[\] = \{\n(.*?)\n\};", src, re.S):
        arrays[m.group(1)] = re.findall(r'\{ "(\w+)", (PT_\w+), (\d), (\d+),', m.group(2))
    out = []
    for m in re.finditer(r'\{ "([a-z]+\.[a-z_]+)", ROLES_\w+,\s*[^,{}]+,\s*(\w+) \}', src):
        for name, typ, _, mx in arrays.get(m.group(2), []):      # p_none: a one-liner
            if typ in TEXTLIKE:
                out.append((m.group(1), name, typ, int(mx)))
    return out


PARAMS = text_params()


def test_methods_c_was_read():
    got = {(m, p) for m, p, _, _ in PARAMS}
    assert len(got) >= 25, sorted(got)
    assert ("fund.record_earnings", "note") in got and ("partner.create", "email") in got \
        and ("fund.create", "code") in got, sorted(got)


class World:
    def __init__(self, daemon, admin, api):
        self.api = api
        self.appr = api_of(daemon, create_principal(daemon, admin, ["approver"],
                                                    name=uniq("lim-appr")))
        self.api2 = api_of(daemon, create_principal(daemon, admin, ["admin"],
                                                    name=uniq("lim-adm")))
        self.fund = self.code32()
        api.ok("fund.create", {"code": self.fund, "name": "Limits", "currency": "EUR",
                               "kind": "pass_through", "dual_approval_above": "100000"})
        self.partner = api.ok("partner.create", {"name": "Limits partner", "country": "AM",
                                                 "kind": "individual"})["partner_id"]
        api.ok("contribution.receive", {"partner_id": self.partner, "fund": self.fund,
                                        "amount": "100000.00", "currency": "EUR"})

    @staticmethod
    def code32():
        return re.sub(r"[^A-Z0-9]", "", uniq("L").upper()).ljust(32, "X")

    def grant(self):
        r = self.api.ok("returnee.register", returnee_params())
        return self.api.ok("grant.apply", {"returnee_id": r["returnee_id"], "fund": self.fund,
                                           "amount": "1.00", "category": "other",
                                           "purpose": "limits"})["grant_id"]

    def approved(self):
        g = self.grant()
        self.appr.ok("grant.approve", {"grant_id": g})
        return g

    def disbursement(self):
        return self.api.ok("disbursement.create", {"grant_id": self.approved(),
                                                   "amount": "1.00"})["disbursement_id"]

    def other_fund(self):
        """Another pass-through EUR fund: the other side of a transfer."""
        code = self.code32()
        self.api.ok("fund.create", {"code": code, "name": "Limits other", "currency": "EUR",
                                    "kind": "pass_through", "dual_approval_above": "1"})
        return code

    def transfer(self):
        return self.api.ok("fund.transfer", {"from": self.fund, "to": self.other_fund(),
                                             "amount": "1.00", "memo": "m"})["transfer_id"]
    def paid(self):
        return self.api2.ok("disbursement.confirm", {"disbursement_id": self.disbursement(),
                                                     "bank_ref": "b"})["disbursement_id"]

    def pledge(self):
        return self.api.ok("contribution.pledge", {"partner_id": self.partner,
                                                   "fund": self.fund, "amount": "1.00",
                                                   "currency": "EUR"})["contribution_id"]


# method -> (world -> (client, valid params)); the param under test is then replaced
RECIPES = {
    "principal.create": lambda w: (w.api, {"name": "n", "roles": ["auditor"]}),
    "fund.create": lambda w: (w.api, {"code": w.code32(), "name": "n", "currency": "EUR",
                                      "kind": "pass_through", "dual_approval_above": "1"}),
    "fund.balance": lambda w: (w.api, {"code": w.fund}),
    "returnee.find": lambda w: (w.api, {"name": "n"}),
    "partner.find": lambda w: (w.api, {"name": "n"}),
    "fund.history": lambda w: (w.api, {"code": w.fund, "from": "2026-01-01",
                                       "to": "2026-01-31"}),
    "fund.record_earnings": lambda w: (w.api, {"code": w.fund, "amount": "0.01",
                                               "period": uniq("P"), "note": "n"}),
    # the param under test is the fund's own code: the other side is another fund
    "fund.transfer": lambda w: (w.api, {"from": w.other_fund(), "to": w.other_fund(),
                                        "amount": "1.00", "memo": "m"}),
    "fund.transfer_cancel": lambda w: (w.api, {"transfer_id": w.transfer(), "reason": "r"}),
    "fund.transfer_list": lambda w: (w.api, {"fund": w.fund}),
    "partner.create": lambda w: (w.api, {"name": "n", "country": "AM", "kind": "individual",
                                         "email": "a@b"}),
    "contribution.pledge": lambda w: (w.api, {"partner_id": w.partner, "fund": w.fund,
                                              "amount": "1.00", "currency": "EUR"}),
    "contribution.receive": lambda w: (w.api, {"partner_id": w.partner, "fund": w.fund,
                                               "amount": "1.00", "currency": "EUR",
                                               "bank_ref": "b"}),
    "contribution.cancel": lambda w: (w.api, {"contribution_id": w.pledge(), "reason": "r"}),
    "contribution.write_off": lambda w: (w.api, {"contribution_id": w.pledge(), "reason": "r"}),
    "contribution.list": lambda w: (w.api, {"fund": w.fund}),
    "ledger.entries": lambda w: (w.api, {"account": "cash"}),
    "ledger.trial_balance": lambda w: (w.api, {"fund": w.fund}),
    "returnee.register": lambda w: (w.api, returnee_params()),
    "grant.apply": lambda w: (w.api, {"returnee_id": w.api.ok(
        "returnee.register", returnee_params())["returnee_id"], "fund": w.fund,
        "amount": "1.00", "category": "other", "purpose": "p"}),
    "grant.list": lambda w: (w.api, {"fund": w.fund}),
    "grant.withdraw": lambda w: (w.api, {"grant_id": w.grant(), "reason": "r"}),
    "grant.approve": lambda w: (w.appr, {"grant_id": w.grant(), "comment": "c"}),
    "grant.reject": lambda w: (w.appr, {"grant_id": w.grant(), "reason": "r"}),
    "grant.cancel": lambda w: (w.api, {"grant_id": w.approved(), "reason": "r"}),
    "disbursement.create": lambda w: (w.api, {"grant_id": w.approved(), "amount": "1.00",
                                              "reference": "r"}),
    "disbursement.confirm": lambda w: (w.api2, {"disbursement_id": w.disbursement(),
                                                "bank_ref": "b"}),
    "disbursement.fail": lambda w: (w.api, {"disbursement_id": w.disbursement(),
                                            "reason": "r"}),
    "disbursement.refund": lambda w: (w.api, {"disbursement_id": w.paid(), "reason": "r",
                                              "bank_ref": "b", "amount": "0.01"}),
    "partner.update": lambda w: (w.api, {"partner_id": w.api.ok("partner.create", {
        "name": "n", "country": "AM", "kind": "individual"})["partner_id"], "name": "n",
        "email": "a@b"}),
    "contribution.reverse": lambda w: (w.api, {"contribution_id": w.api.ok(
        "contribution.receive", {"partner_id": w.partner, "fund": w.fund, "amount": "1.00",
                                 "currency": "EUR"})["contribution_id"], "reason": "r"}),
    "returnee.update": lambda w: (w.api, {"returnee_id": w.api.ok(
        "returnee.register", returnee_params())["returnee_id"], "full_name": "n"}),
    "grant.update": lambda w: (w.api, {"grant_id": w.grant(), "purpose": "p"}),
    "returnee.erase": lambda w: (w.api, {"returnee_id": w.api.ok(
        "returnee.register", returnee_params())["returnee_id"], "reason": "r"}),
    "grant.queue": lambda w: (w.appr, {"fund": w.fund}),
    "grant.recuse": lambda w: (w.appr, {"grant_id": w.grant(), "reason": "r"}),
    "principal.declare_conflict": lambda w: (w.appr, {"returnee_id": w.api.ok(
        "returnee.register", returnee_params())["returnee_id"], "reason": "r"}),
    "disbursement.queue": lambda w: (w.api, {"fund": w.fund}),
    "grant.add_milestone": lambda w: (w.api, {"grant_id": w.approved(), "due_on": "2026-12-31",
                                              "evidence_required": "e", "amount": "1.00"}),
    "milestone.submit": lambda w: (w.api, {"milestone_id": "ms_none",
                                           "document_ids": ["doc_none"], "note": "n"}),
    "milestone.accept": lambda w: (w.appr, {"milestone_id": "ms_none", "comment": "c"}),
    "milestone.reject": lambda w: (w.appr, {"milestone_id": "ms_none", "reason": "r"}),
    "report.grants": lambda w: (w.api, {"from": "2026-01-01", "to": "2026-01-31",
                                        "fund": w.fund}),
    "report.contributions": lambda w: (w.api, {"from": "2026-01-01", "to": "2026-01-31",
                                               "fund": w.fund}),
    "report.pipeline": lambda w: (w.api, {"from": "2026-01-01", "to": "2026-01-31",
                                          "fund": w.fund}),
}


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    w = World(daemon, admin, api)
    yield w
    w.appr.close()
    w.api2.close()


def values(w, method, param, typ, n, ch):
    """(a value of n characters, one of n + 1) for the param."""
    if typ == "PT_CODE":
        if method == "fund.create":
            return w.code32()[:n].ljust(n, "X"), w.code32().ljust(n + 1, "X")
        assert n == len(w.fund), (method, param, n)
        return w.fund, w.fund + "X"
    head = uniq("v") + "-"
    if typ == "PT_EMAIL":
        return head + ch * (n - len(head) - 2) + "@b", head + ch * (n - len(head) - 1) + "@b"
    return head + ch * (n - len(head)), head + ch * (n + 1 - len(head))


@pytest.mark.parametrize("method,param,typ,n", PARAMS,
                         ids=["%s.%s" % (m, p) for m, p, _, _ in PARAMS])
def test_text_param_limit_is_the_schemas(world, method, param, typ, n):
    assert method in RECIPES, "no recipe for %s: add one to RECIPES" % method
    for ch in (CHARS[:1] if typ == "PT_CODE" else CHARS):
        client, params = RECIPES[method](world)
        at, over = values(world, method, param, typ, n, ch)
        assert len(at) == n and len(over) == n + 1
        doc = client.reply(method, dict(params, **{param: at}))
        # taken; a filter naming nothing (ledger.entries' account) may find nothing
        assert "result" in doc or doc["error"]["code"] == -32004, \
            "%s with %s of %d characters %r: %r" % (method, param, n, ch, doc)
        if method == "principal.create":
            remember_token(doc["result"].get("token"))
        doc = client.reply(method, dict(params, **{param: over}))
        assert_error(doc, -32602, field=param, reason="too_long")
