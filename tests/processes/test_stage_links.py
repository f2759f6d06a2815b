"""The four stages close the loop in data (issue 13): a 巡察 rectification rated “差” ends in a 回头看 whose
recorded outcome starts the next period's task adjustment (P7 → P1), as a new M1 instance that names the
rectification it came from, not as a line of text in a report."""

from sqlalchemy import select

from engine.models import PendingMessage, ProcessInstance

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
