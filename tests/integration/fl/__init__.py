"""Helpers of the fundd integration suite, each defined once (standard library only):

  fl.env     paths, the tokens the suite has used, unique names, the environment that
             config/devenv.sh manages, daemons, fundctl
  fl.client  the one HTTPS/JSON-RPC client (Client), error objects, raw TLS and HTTP,
             races and background calls, Prometheus metrics
  fl.db      SQL as any role (psql), table locks that hold requests in flight, triggers
  fl.ledger  money in minor units, funds, partners, paging, the journal
  fl.grants  returnees, grants, approvals and disbursements
  fl.audit   the audit chain recomputed, audit.events, Ed25519, exports, side databases

Everything talks to the real daemon over real TLS and to the real PostgreSQL cluster that
config/devenv.sh manages; nothing is mocked. Used by tests/integration and tests/crash.
"""
