"""The need-to-know rule (engine/access/need_to_know.py) on plain tasks: who reads the whole file, who
reads only what their open task declares, and what stays with a person once the task is done."""

from __future__ import annotations

from types import SimpleNamespace

from engine.access.need_to_know import ReadScope, scope_of, trim, trim_schema
from engine.access.principal import Principal

P = "gt_p5_inquiry"
META = {
    "t_plan": {"reads_scope": "file"},
    "t_letter": {"reads_scope": "file"},
    "t_reply": {
        "reads_scope": "addressed",
        "reads": {"t_letter": ["letter_no", "questions"]},
        "reads_files": ["t_letter"],
    },
    "t_sign": {"reads_scope": "addressed", "reads": {"t_letter": ["questions"], "t_reply": None}, "reads_files": []},
}


def task(id, spec, role, units, *, status="completed", assignee=None, completed_by=None):
    return SimpleNamespace(
        id=id,
        process_key=P,
        spec_id=spec,
        role=role,
        candidate_units=list(units),
        status=status,
        assignee=assignee,
        completed_by=completed_by,
        separate_from=None,
    )


def person(username, *memberships, leader_of=()):
    return Principal(username=username, memberships=frozenset(memberships), leader_of=frozenset(leader_of))


OFFICER = person("liuyang", ("qh_jc1", "supervision_office"))
REPORTED = person("zhaomou", ("qh_xczxj_dz", "reported_person"))
COLLEAGUE = person("wangmou", ("qh_xczxj_dz", "reported_person"))
SECRETARY = person("xczxsj", ("qh_xczxj_dz", "supervised_party_org"), leader_of=("qh_xczxj_dz",))


def _meta(process_key, spec_id):
    assert process_key == P
    return META[spec_id]


def _scope(principal, tasks):
    return scope_of(principal, tasks, _meta, default_scope=lambda role: "file")


def _case(reply_status="ready", sign_status=None):
    tasks = [
        task(1, "t_plan", "supervision_office", ["qh_jc1"], completed_by="liuyang"),
        task(2, "t_letter", "supervision_office", ["qh_jc1"], completed_by="liuyang"),
        task(
            3,
            "t_reply",
            "reported_person",
            ["qh_xczxj_dz"],
            status=reply_status,
            assignee="zhaomou",
            completed_by="zhaomou" if reply_status == "completed" else None,
        ),
    ]
    if sign_status:
        tasks.append(task(4, "t_sign", "supervised_party_org", ["qh_xczxj_dz"], status=sign_status))
    return tasks


def test_a_handling_office_reads_the_whole_file():
    scope = _scope(OFFICER, _case())
    assert scope.whole and scope.kind == "file"
    assert scope.fields(1, "someone") is None and scope.may_open_file(1, "someone")


def test_the_reported_person_reads_only_the_declared_fields_of_his_letter_while_his_task_is_open():
    scope = _scope(REPORTED, _case())
    assert not scope.whole and scope.kind == "addressed"
    assert scope.fields(2, "liuyang") == frozenset({"letter_no", "questions"})
    assert scope.fields(1, "liuyang") is False  # the 工作预案
    assert scope.may_open_file(2, "liuyang") and not scope.may_open_file(1, "liuyang")
    assert not scope.may_open_file(None, "liuyang")  # an upload of no step is part of the file


def test_once_his_reply_is_done_he_keeps_only_what_he_wrote():
    scope = _scope(REPORTED, _case(reply_status="completed"))
    assert scope.fields(2, "liuyang") is False and not scope.may_open_file(2, "liuyang")
    assert scope.fields(3, "zhaomou") is None  # his own reply, whole
    assert scope.may_open_file(3, "zhaomou")


def test_another_reported_person_of_the_same_unit_reads_nothing_of_a_letter_addressed_to_someone_else():
    scope = _scope(COLLEAGUE, _case())
    assert scope.kind == "none"
    assert scope.fields(2, "liuyang") is False and scope.fields(3, "zhaomou") is False


def test_the_host_units_leader_reads_what_he_countersigns_and_nothing_before_he_must_sign():
    before = _scope(SECRETARY, _case())  # he leads the unit, so he sees the reply task, but it is not his
    assert before.kind == "none" and before.fields(2, "liuyang") is False
    signing = _scope(SECRETARY, _case(reply_status="completed", sign_status="ready"))
    assert signing.fields(2, "liuyang") == frozenset({"questions"})
    assert signing.fields(3, "zhaomou") is None  # the reply he countersigns, whole
    assert signing.fields(1, "liuyang") is False
    after = _scope(SECRETARY, _case(reply_status="completed", sign_status="completed"))
    assert after.kind == "none"


def test_a_person_with_no_task_of_the_instance_reads_nothing():
    assert _scope(person("stranger", ("qh_jc2", "supervision_office")), _case()).kind == "none"


def test_the_system_reads_the_file_and_no_administrator_reads_anything():
    from engine.access.principal import SYSTEM_PRINCIPAL

    assert _scope(SYSTEM_PRINCIPAL, _case()).whole
    for kind in ("system", "security", "audit"):  # 三员分立: none of them reads case content
        assert _scope(Principal(username="admin", admin_kind=kind), _case()).kind == "none"


def test_versions_deployed_before_the_rule_read_as_their_role_says():
    """A task whose metadata carries no scope (an old version) takes its role's, here the old default."""
    tasks = [task(1, "t_x", "x_department", ["qh_sjj"], status="ready")]
    x = person("shenmei", ("qh_sjj", "x_department"))
    assert scope_of(x, tasks, lambda p, s: {}, default_scope=lambda role: "file").whole
    assert scope_of(x, tasks, lambda p, s: {}, default_scope=lambda role: "addressed").kind == "none"


def test_trimming_cuts_records_and_forms_to_the_readable_fields():
    assert trim({"questions": "q", "contingency": "witness"}, frozenset({"questions"})) == {"questions": "q"}
    assert trim({"a": 1}, None) == {"a": 1}
    schema = {"properties": {"questions": {}, "contingency": {}}, "required": ["questions", "contingency"]}
    assert trim_schema(schema, frozenset({"questions"})) == {"properties": {"questions": {}}, "required": ["questions"]}
    assert ReadScope(reader="x").kind == "none"
