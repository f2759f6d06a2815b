"""常用审批意见 (engine/tasks/phrases.py): each person's own phrases; administrators have none."""

import pytest

from engine.errors import Forbidden, NotFound, ValidationError
from engine.tasks import phrases


def test_each_person_keeps_and_deletes_his_own_phrases(services, who):
    saved = phrases.add_phrase(services, who("boss"), "  同意，请按程序抓紧办理。 ")
    assert saved.text == "同意，请按程序抓紧办理。"
    with pytest.raises(ValidationError):
        phrases.add_phrase(services, who("boss"), " ")
    with pytest.raises(ValidationError):
        phrases.add_phrase(services, who("boss"), "长" * 501)
    assert phrases.phrases(services, who("so1")) == []  # not another's
    with pytest.raises(NotFound):
        phrases.delete_phrase(services, who("so1"), saved.id)
    with pytest.raises(Forbidden):
        phrases.phrases(services, who("admin"))
    phrases.delete_phrase(services, who("boss"), saved.id)
    assert phrases.phrases(services, who("boss")) == []
