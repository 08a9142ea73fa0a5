from mes.registry import Rule

AUDITORS = frozenset({"auditor"})

ACCESS = {
    "audit:event_list": Rule(AUDITORS),
    "audit:event_detail": Rule(AUDITORS, make_kwargs=lambda data: {"seq": data["audit_seq"]}),
    "audit:record_history": Rule(AUDITORS, kwargs={"object_type": "auth.user", "object_id": "1"}),
    "audit:export_csv": Rule(AUDITORS),
    "audit:verify": Rule(AUDITORS),
}
