"""The four stages close the loop in data (issue 13): a 巡察 rectification rated “差” ends in a 回头看 whose
recorded outcome starts the next period's task adjustment (P7 → P1), as a new M1 instance that names the
rectification it came from, not as a line of text in a report."""

from sqlalchemy import select

from engine import clock
from engine.access.principal import load_principal
from engine.cockpit.access import DEFAULT_COCKPIT_ROLES
from engine.cockpit.scope import commission_scope
from engine.instances import links
from engine.models import HumanTask, PendingMessage, ProcessInstance

from .walks import walk


def test_a_poor_rectification_s_follow_up_starts_the_next_task_adjustment_with_its_outcome(db):
    w = walk(db, "round_plain_rectification_poor")
    adjust = w.instances("gt_m1_adjust")
    assert len(adjust) == 1
    with db.session() as s:
        message = s.scalars(select(PendingMessage).where(PendingMessage.message_name == "gt_msg_task_adjust")).one()
        sender = s.get(ProcessInstance, message.source_instance_id) if message.source_instance_id else None
        payload = dict(message.payload)
    assert payload["trigger"] == "follow_up" and payload["eval_grade"] == "cha"
    assert payload["follow_up_outcome"] in {"next_round", "special_check", "targets"}
    assert payload["rectification_no"] == "ZG-2024-009" and payload["host_unit"] == "qh_nmj_dz"
    # the new M1 instance hangs under the rectification that rated the unit (its parent), in the same commission
    assert sender is not None and sender.process_key == "gt_m3_rectify"
    assert adjust[0].parent_instance_id == sender.id and adjust[0].owner_unit == sender.owner_unit


def _linked(db, username: str, instance_id: int):
    """The instances linked to ``instance_id`` as ``username`` finds them on its page (engine/instances/links,
    with the commissions a leader oversees as the pages compute them)."""
    with db.session() as s:
        who = load_principal(s, username)
        inst = s.get(ProcessInstance, instance_id)
        assert inst is not None
        oversee = commission_scope(s, who, DEFAULT_COCKPIT_ROLES)
        return links.linked(s, who, instance_id, parent=inst.parent_instance_id, now=clock.now(), oversee=oversee)


def test_a_case_s_recommendation_starts_the_unit_s_rectification_under_the_case(db):
    """P5 → P6: the 审理室 that archives a case decides 以案促改; its 纪检监察建议书 starts the rectification
    (M3 → P6) with the case as parent and the case number and the letter's number in the payload, and each
    instance lists the other on its page."""
    w = walk(db, "case_discipline_review_extended_once")
    (rectify,) = w.instances("gt_m3_rectify")
    with db.session() as s:
        message = s.scalars(
            select(PendingMessage).where(PendingMessage.message_name == "gt_msg_rectification_needed")
        ).one()
        payload = dict(message.payload)
        recommender = s.scalars(
            select(HumanTask.completed_by).where(HumanTask.spec_id == "t_recommend", HumanTask.status == "completed")
        ).one()
        feedback = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == rectify.id, HumanTask.spec_id == "t_feedback")
        ).one()
        s.expunge(feedback)
    (case,) = w.instances("gt_p5_intake_report")
    assert message.source_instance_id == case.id
    assert payload["source_type"] == "recommendation" and payload["case_no"] == "LA-2024-0012"
    assert payload["rectification_no"] == "JJJY〔2024〕3号" and payload["host_unit"] == "qh_nmj_dz"
    assert payload["supervision_unit"] == "qh_jc2"
    assert rectify.parent_instance_id == case.id and rectify.owner_unit == case.owner_unit
    assert recommender
    # the 监督检查室 that handled the clue and now runs the rectification finds each from the other
    supervisor = w.pilot.eligible(feedback)[0]
    from_case = {(link.id, link.relation) for link in _linked(db, supervisor, case.id)}
    assert (rectify.id, links.STARTED) in from_case
    from_rectify = {(link.id, link.relation) for link in _linked(db, supervisor, rectify.id)}
    assert (case.id, links.SOURCE) in from_rectify


def test_a_rectification_s_close_records_its_result_for_the_period_s_political_ecology_assessment(db):
    """P7 → P8: the 监督检查室 closes the rectification list with its outcome, score and the assessment
    period it counts in; the message starts the 党风政风监督室's registration of that result (gt_p8_result)
    under the rectification, so the period's assessment finds it by period and unit, and each instance
    lists the other on its page."""
    w = walk(db, "m3_inspection_rectification")
    (rectify,) = w.instances("gt_m3_rectify")
    (result,) = w.instances("gt_p8_result")
    with db.session() as s:
        message = s.scalars(
            select(PendingMessage).where(PendingMessage.message_name == "gt_msg_rectification_result")
        ).one()
        payload = dict(message.payload)
        closer, registrar = (
            s.scalars(
                select(HumanTask.completed_by).where(HumanTask.spec_id == spec, HumanTask.status == "completed")
            ).one()
            for spec in ("t_close", "t_register")
        )
    assert message.source_instance_id == rectify.id
    assert payload["rectification_no"] == "ZG-2024-009" and payload["source_type"] == "inspection"
    assert payload["host_unit"] == "qh_nmj_dz" and payload["eco_period"] == "2024H2"
    assert payload["rect_outcome"] == "partial" and payload["rect_score"] == 86
    assert result.parent_instance_id == rectify.id and result.owner_unit == rectify.owner_unit
    assert result.status == "completed" and result.business_key == "ZG-2024-009"
    assert closer and registrar
    # the 党风政风监督室 that registered the result (and runs the assessment, overseeing its commission's
    # instances) reaches the rectification it came from; the commission's secretary finds the registration
    # from the rectification
    assert (rectify.id, links.SOURCE) in {(link.id, link.relation) for link in _linked(db, registrar, result.id)}
    assert (result.id, links.STARTED) in {(link.id, link.relation) for link in _linked(db, "machengzhi", rectify.id)}
