# Plain data (mes.registry makes each a Rule): the audit package sits below mes and imports none of it.
AUDITORS = frozenset({"auditor"})

ACCESS = {
    "audit:event_list": {"roles": AUDITORS},
    "audit:event_detail": {"roles": AUDITORS, "make_kwargs": lambda data: {"seq": data["audit_seq"]}},
    "audit:record_history": {"roles": AUDITORS, "kwargs": {"object_type": "auth.user", "object_id": "1"}},
    "audit:export_csv": {"roles": AUDITORS},
    "audit:verify": {"roles": AUDITORS},
}
