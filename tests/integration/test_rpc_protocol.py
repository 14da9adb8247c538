"""JSON-RPC 2.0 envelope on POST /rpc: single calls, batches, notifications and the
protocol-level errors (docs/protocol.md)."""

import json

import pytest

from fl.audit import last_seq, new_events
from fl.client import Client, assert_401, assert_error, call, post_rpc
from fl.env import fake_token, uniq


def whoami(rid):
    return {"jsonrpc": "2.0", "method": "system.whoami", "id": rid}


def test_single_call_echoes_numeric_id(daemon, admin):
    r = post_rpc(daemon, admin, whoami(7))
    assert r.status == 200
    assert r.content_type == "application/json"
    doc = r.json()
    assert doc["jsonrpc"] == "2.0"
    assert doc["id"] == 7
    assert "error" not in doc
    assert doc["result"]["name"] == "admin"


def test_single_call_echoes_string_id(daemon, admin):
    doc = post_rpc(daemon, admin, whoami("req-\u00e9-1")).json()
    assert doc["id"] == "req-\u00e9-1"
    assert "result" in doc


def test_params_object_accepted_when_empty(daemon, admin):
    doc = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.version",
                                   "params": {}, "id": 1}).json()
    assert doc["result"]["protocol"] == 1


def test_batch_mixed(daemon, admin):
    batch = [
        whoami(1),
        {"jsonrpc": "2.0", "method": "system.version", "id": "b"},
        {"jsonrpc": "2.0", "method": "system.whoami"},              # notification
        {"jsonrpc": "2.0", "method": "no.such_method", "id": 3},
        {"jsonrpc": "2.0", "method": "system.whoami", "params": [], "id": 4},
    ]
    r = post_rpc(daemon, admin, batch)
    assert r.status == 200
    assert r.content_type == "application/json"
    doc = r.json()
    assert isinstance(doc, list)
    by_id = {e["id"]: e for e in doc}
    assert len(doc) == 4 and set(by_id) == {1, "b", 3, 4}, doc
    assert by_id[1]["result"]["name"] == "admin"
    assert by_id["b"]["result"]["protocol"] == 1
    assert_error(by_id[3], -32601, rid=3)
    assert_error(by_id[4], -32602, rid=4)
    for e in doc:
        assert e["jsonrpc"] == "2.0"


def test_batch_of_100_is_accepted(daemon, admin):
    doc = post_rpc(daemon, admin, [whoami(i) for i in range(100)]).json()
    assert isinstance(doc, list) and len(doc) == 100
    assert sorted(e["id"] for e in doc) == list(range(100))
    assert all("result" in e for e in doc)


def test_batch_of_101_is_refused_whole(daemon, admin):
    r = post_rpc(daemon, admin, [whoami(i) for i in range(101)])
    assert r.status == 200
    doc = r.json()
    assert isinstance(doc, dict), "expected a single error object, got %r" % (doc,)
    assert_error(doc, -32600, rid=None)


def test_empty_batch(daemon, admin):
    r = post_rpc(daemon, admin, b"[]")
    assert r.status == 200
    doc = r.json()
    assert isinstance(doc, dict), doc
    assert_error(doc, -32600, rid=None)


def test_batch_with_invalid_members(daemon, admin):
    doc = post_rpc(daemon, admin, b'[1, "x", {"jsonrpc":"2.0","method":"system.whoami","id":9}]'
                   ).json()
    assert isinstance(doc, list) and len(doc) == 3, doc
    ok = [e for e in doc if e.get("id") == 9]
    bad = [e for e in doc if e.get("id") is None]
    assert len(ok) == 1 and ok[0]["result"]["name"] == "admin"
    assert len(bad) == 2
    for e in bad:
        assert_error(e, -32600, rid=None)


def test_notification_only_batch_gets_204(daemon, admin):
    r = post_rpc(daemon, admin, [{"jsonrpc": "2.0", "method": "system.whoami"},
                                 {"jsonrpc": "2.0", "method": "system.version"}])
    assert r.status == 204
    assert r.body == b""


def test_single_notification_gets_204(daemon, admin):
    r = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.version"})
    assert r.status == 204
    assert r.body == b""


def test_notification_of_unknown_method_gets_no_entry(daemon, admin):
    doc = post_rpc(daemon, admin, [{"jsonrpc": "2.0", "method": "no.such"}, whoami(1)]).json()
    assert isinstance(doc, list) and len(doc) == 1 and doc[0]["id"] == 1


@pytest.mark.parametrize("body", [b"{", b'{"jsonrpc":"2.0",', b"nope", b"\xff\xfe",
                                  b'[{"jsonrpc":"2.0","method":"system.whoami","id":1},'])
def test_parse_error(daemon, admin, body):
    r = post_rpc(daemon, admin, body)
    assert r.status == 200
    assert r.content_type == "application/json"
    assert_error(r.json(), -32700, rid=None)


def test_empty_body_is_parse_error(daemon, admin):
    with Client(daemon, admin) as s:
        r = s.request("POST", "/rpc", body=b"", headers={"Content-Length": "0"})
    assert r.status == 200
    assert_error(r.json(), -32700, rid=None)


@pytest.mark.parametrize("payload", [1, "text", None, True])
def test_not_an_object(daemon, admin, payload):
    r = post_rpc(daemon, admin, json.dumps(payload))
    assert r.status == 200
    assert_error(r.json(), -32600, rid=None)


@pytest.mark.parametrize("req", [
    {"method": "system.whoami", "id": 1},                        # jsonrpc missing
    {"jsonrpc": "1.0", "method": "system.whoami", "id": 1},
    {"jsonrpc": 2.0, "method": "system.whoami", "id": 1},
    {"jsonrpc": "2.0", "id": 1},                                 # method missing
    {"jsonrpc": "2.0", "method": 123, "id": 1},
    {"jsonrpc": "2.0", "method": None, "id": 1},
    {"jsonrpc": "2.0", "method": ["system.whoami"], "id": 1},
])
def test_invalid_request(daemon, admin, req):
    r = post_rpc(daemon, admin, req)
    assert r.status == 200
    doc = r.json()
    assert isinstance(doc, dict)
    assert_error(doc, -32600)
    assert doc.get("id") in (None, 1), doc


def test_unknown_method(daemon, admin):
    r = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.nope", "id": "u1"})
    assert r.status == 200
    err = assert_error(r.json(), -32601, rid="u1")
    assert "SELECT" not in json.dumps(err)


@pytest.mark.parametrize("params", [[], ["x"]])
def test_params_must_be_an_object(daemon, admin, params):
    r = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.whoami",
                                 "params": params, "id": 5})
    assert r.status == 200
    assert_error(r.json(), -32602, rid=5)


@pytest.mark.parametrize("params", ["x", 3])
def test_scalar_params_refused(daemon, admin, params):
    # JSON-RPC 2.0 calls a non-structured params an invalid request; the issue says params
    # must be an object (-32602). Either refusal is acceptable, executing the call is not.
    doc = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.whoami",
                                   "params": params, "id": 5}).json()
    assert "result" not in doc, doc
    assert doc["error"]["code"] in (-32600, -32602), doc
    assert_error(doc, doc["error"]["code"])


def test_unknown_param_names_field(daemon, admin):
    doc = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.version",
                                   "params": {"verbose": True}, "id": 6}).json()
    assert_error(doc, -32602, field="verbose", rid=6)


def test_keep_alive_many_calls_one_connection(daemon, admin):
    with Client(daemon, admin) as s:
        s.connect()
        first = s.sock
        for i in range(5):
            assert s.sock is first, "connection was not kept alive"
            assert s.call("system.whoami")["name"] == "admin"


def test_large_batch_response(daemon, admin):
    batch = [{"jsonrpc": "2.0", "method": "region.list", "id": i} for i in range(100)]
    r = post_rpc(daemon, admin, batch)
    assert r.status == 200
    doc = r.json()
    assert len(doc) == 100
    assert all(len(e["result"]["regions"]) == 11 for e in doc)


def test_id_null_is_a_request(daemon, admin):
    doc = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.version",
                                   "id": None}).json()
    assert doc["id"] is None
    assert doc["result"]["protocol"] == 1


@pytest.mark.parametrize("rid", [{"a": 1}, [1], True])
def test_id_of_wrong_type(daemon, admin, rid):
    doc = post_rpc(daemon, admin, {"jsonrpc": "2.0", "method": "system.version",
                                   "id": rid}).json()
    assert_error(doc, -32600)


def test_deeply_nested_json(daemon, admin):
    r = post_rpc(daemon, admin, b"[" * 100000 + b"]" * 100000)
    assert r.status == 200
    doc = r.json()
    assert isinstance(doc, dict), "expected one error object"
    assert doc["error"]["code"] in (-32700, -32600), doc
    assert_error(doc, doc["error"]["code"], rid=None)
    assert post_rpc(daemon, admin, whoami(1)).json()["result"]["name"] == "admin"


def test_invalid_utf8_inside_string(daemon, admin):
    body = (b'{"jsonrpc":"2.0","method":"principal.create","id":1,'
            b'"params":{"name":"bad\xff\xfename","roles":["auditor"]}}')
    doc = post_rpc(daemon, admin, body).json()
    assert "result" not in doc, "a name with invalid UTF-8 was accepted: %r" % (doc,)
    assert doc["error"]["code"] in (-32700, -32602), doc
    assert_error(doc, doc["error"]["code"])


# --------------------------------------------------------------------------------------------
# The strict reader: what cJSON alone would let through (docs/protocol.md)

def _body(payload_text):
    return payload_text.encode() if isinstance(payload_text, str) else payload_text


@pytest.mark.parametrize("raw", [b"Alice\x00Evil", b"Alice\x1fEvil", b"Alice\nEvil"],
                         ids=["nul", "us", "newline"])
def test_raw_control_character_in_string_refused(daemon, admin, raw):
    """A raw control byte inside a string is not JSON: -32700, nothing stored (the NUL used
    to cut the name to "Alice", and two bodies hashed to one idempotency key)."""
    name = uniq("rc")
    body = (b'{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"name":"'
            + name.encode() + raw + b'","country":"AM","kind":"organisation","idempotency_key":"' +
            uniq("k").encode() + b'"}}')
    r = post_rpc(daemon, admin, body)
    assert r.status == 200
    assert_error(r.json(), -32700, reason="raw_control_character", rid=None)
    names = [p["name"] for p in call(daemon, admin, "partner.list", {"limit": 1000})["partners"]]
    assert not [n for n in names if n.startswith(name)]


def test_duplicate_keys_refused(daemon, admin):
    name = uniq("dup")
    body = ('{"jsonrpc":"2.0","id":4,"method":"partner.create","params":{"name":"%s-a",'
            '"country":"AM","kind":"organisation","name":"%s-b"}}' % (name, name))
    doc = post_rpc(daemon, admin, body).json()
    assert_error(doc, -32600, field="name", reason="duplicate_key", rid=None)
    body = ('{"jsonrpc":"2.0","id":4,"method":"system.version","method":"system.whoami"}')
    assert_error(post_rpc(daemon, admin, body).json(), -32600, field="method",
                 reason="duplicate_key")
    # in a batch, per element
    body = ('[{"jsonrpc":"2.0","id":1,"method":"system.version"},'
            '{"jsonrpc":"2.0","id":2,"method":"partner.list","params":{"limit":1,"limit":2}}]')
    docs = post_rpc(daemon, admin, body).json()
    assert docs[0]["result"]["protocol"] == 1
    assert_error(docs[1], -32600, field="limit", reason="duplicate_key", rid=None)
    names = [p["name"] for p in call(daemon, admin, "partner.list", {"limit": 1000})["partners"]]
    assert not [n for n in names if n.startswith(name)]


@pytest.mark.parametrize("rid", ["9007199254740993", "1e400", "-0", "1.50",
                                 "123456789012345678901234567890"])
def test_number_id_echoed_as_sent(daemon, admin, rid):
    body = '{"jsonrpc":"2.0","method":"system.version","id":%s}' % rid
    r = post_rpc(daemon, admin, body)
    assert r.status == 200
    assert r.body.endswith(b'"id":' + rid.encode() + b'}'), r.body
    body = '{"jsonrpc":"2.0","method":"no.such","id":%s}' % rid
    assert post_rpc(daemon, admin, body).body.endswith(b'"id":' + rid.encode() + b'}')


def test_id_not_utf8_refused(daemon, admin):
    r = post_rpc(daemon, admin, b'{"jsonrpc":"2.0","method":"system.version","id":"a\xffb"}')
    assert b"\xff" not in r.body
    assert_error(r.json(), -32600, field="id", reason="bad_id", rid=None)


@pytest.mark.parametrize("body,method", [
    (b'{"jsonrpc":"2.0","method":"principal.create","id":1,'
     b'"params":{"name":"bad\xff\xfename","roles":["auditor"]}}', "principal.create"),
    (b'{"jsonrpc":"2.0","method":"principal.create","id":1,"params":{"name":5}}',
     "principal.create"),
    (b'{"jsonrpc":"2.0","method":"system.whoami","id":1', "http.rpc"),
    (b'{"jsonrpc":"2.0","method":"no.such","id":1}', "http.rpc"),
    (b'{"jsonrpc":"2.0","method":"system.whoami","id":1,"id":2}', "http.rpc"),
    (b'{"jsonrpc":"2.0","method":"system.whoami","id":"\x01"}', "http.rpc"),
    (b'[]', "http.rpc"),
    (b'[{"jsonrpc":"2.0","method":"no.such","id":1}, 7]', "http.rpc"),
], ids=["bad-utf8-params", "bad-params", "not-json", "no-method", "duplicate-key",
        "raw-control", "empty-batch", "bad-batch"])
def test_bad_token_gets_401_whatever_else_is_wrong(daemon, api, body, method):
    """Credentials come first: a bad token is refused (401, audited, counted by the
    throttle) however malformed the rest of the request."""
    mark = last_seq(api)
    r = post_rpc(daemon, fake_token(), body)
    doc = assert_401(r)
    assert_error(doc, -32001, reason="bad_credentials")
    evs = new_events(api, mark)
    assert [(e["method"], e["principal_id"], e["outcome"], e["error_code"], e["reason"])
            for e in evs] == [(method, None, "refused", -32001, "bad_credentials")]


def test_good_token_with_errors_still_answered(daemon, admin):
    doc = post_rpc(daemon, admin, b'{"jsonrpc":"2.0","method":"no.such","id":1}').json()
    assert_error(doc, -32601, rid=1)
    doc = post_rpc(daemon, admin, b'{"jsonrpc":"2.0","method":"system.whoami","id":1').json()
    assert_error(doc, -32700, rid=None)
