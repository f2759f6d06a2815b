"""``guantong keys rotate``: everything sealed or encrypted brought under the current data key.

Rotation keeps the service up. The operator first gives every server the new key as current with the
old one retired (``GUANTONG_SEAL_KEY`` / ``GUANTONG_SEAL_RETIRED_KEYS``, a rolling restart): from then
on new data is sealed with the new key and old data still opens. This use case then re-seals the
confidential fields of every submission, re-encrypts every attachment (and the plain files from before
encryption) and re-seals confidential attachment names, in small transactions so officers working at
the same time never wait long on a row. When it reports nothing left under an old key, the old key can
be dropped. Run it again at any time: what is already current is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update

from engine import audit
from engine.access.principal import Principal
from engine.access.sealing import SealError
from engine.errors import Forbidden, NotFound
from engine.models import Attachment, TaskSubmission
from engine.services import Services
from engine.tasks import attachments as files


@dataclass(frozen=True)
class Rotation:
    key_id: str
    submissions: int  # sealed records re-sealed under the current key
    attachments: int  # attachments re-encrypted (or encrypted for the first time) or renamed under it
    unreadable: tuple[str, ...] = ()  # what no configured key opens ("submission 12", "attachment 3")


def rotate_data_keys(services: Services, principal: Principal, *, batch: int = 200) -> Rotation:
    """Re-seal and re-encrypt what an older key protects. Only the console (the system principal) may."""
    if not principal.is_system:
        raise Forbidden("only the installation's operator rotates keys (guantong keys rotate)", rule="keys_rotate")
    sealer = services.sealer
    unreadable: list[str] = []
    resealed = _reseal_submissions(services, batch, unreadable)
    root = services.attachments
    moved, last_id = 0, 0
    while True:
        with services.db.session() as s:
            ids = s.scalars(
                select(Attachment.id)
                .where(
                    Attachment.id > last_id,
                    or_(
                        Attachment.key_id.is_(None),
                        Attachment.key_id != sealer.key_id,
                        Attachment.name_sealed.is_not(None),
                    ),
                )
                .order_by(Attachment.id)
                .limit(batch)
            ).all()
        if not ids:
            break
        for attachment_id in ids:  # one file per transaction: a file is large, a row lock short
            with services.db.session() as s:
                row = s.get(Attachment, attachment_id, with_for_update=True)
                if row is None:
                    continue
                try:
                    changed, obsolete = files.reencrypt(s, root, row, sealer)
                except (SealError, NotFound) as exc:
                    unreadable.append(f"attachment {attachment_id}: {exc}")
                    s.rollback()
                    continue
            if changed:
                moved += 1
                files.remove_obsolete(root, obsolete)
        last_id = ids[-1]
    with services.db.session() as s:
        audit.record(
            s,
            "keys_rotated",
            actor=principal.username,
            key_id=sealer.key_id,
            submissions=resealed,
            attachments=moved,
            unreadable=len(unreadable) or None,
        )
    return Rotation(key_id=sealer.key_id, submissions=resealed, attachments=moved, unreadable=tuple(unreadable))


def _reseal_submissions(services: Services, batch: int, unreadable: list[str]) -> int:
    sealer = services.sealer
    count, last_id = 0, 0
    while True:
        with services.db.session() as s:
            rows = s.execute(
                select(TaskSubmission.id, TaskSubmission.sealed)
                .where(TaskSubmission.id > last_id, TaskSubmission.sealed.is_not(None))
                .order_by(TaskSubmission.id)
                .limit(batch)
            ).all()
            if not rows:
                return count
            for row in rows:
                if not row.sealed or sealer.is_current(row.sealed):
                    continue
                try:
                    token = sealer.reseal(row.sealed)
                except SealError:
                    unreadable.append(f"submission {row.id}")
                    continue
                s.execute(
                    update(TaskSubmission)
                    .where(TaskSubmission.id == row.id)
                    .values(sealed=token)
                    .execution_options(synchronize_session=False)
                )
                count += 1
            last_id = rows[-1].id
