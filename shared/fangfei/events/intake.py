"""Events owned by the intake service (topic `intake.events`).

Reporter identity (举报人身份) never appears in an event: a clue names its reporter only by a
pseudonymous `reporter_id`; the identity itself is sealed in intake's own collections (see
services/intake/vault.py and docs/adr/0006-no-reporter-identity-on-the-bus.md). Who read or erased
an identity, when and why is recorded as events of the stream `reporter-<reporter_id>`, which are
hash-chained like every stream and never updated or deleted (audit trail, PIPL art. 56)."""

from marshmallow import RAISE, Schema, fields

from ..vocab import CLUE_CATEGORIES, CLUE_SOURCES
from .fields import code, ident, instant, text
from .registry import REGISTRY

# Approved reasons to read a reporter's identity (anything else is refused with 403).
IDENTITY_READ_REASONS: dict[str, str] = {
    "reward_payout": "发放举报奖励",
    "verification_callback": "核查回访举报人",
    "judicial_request": "司法机关依法调取",
    "reporter_request": "举报人本人申请查询或更正",
}

# Approved reasons to erase a reporter's identity (crypto-shredding).
ERASURE_REASONS: dict[str, str] = {
    "reporter_request": "举报人本人申请删除",
    "retention_expired": "保存期限届满",
    "collected_in_error": "误采集",
}


class ClueReportedV1(Schema):
    """A clue (线索) entered the platform. Carries no reporter identity, only `reporter_id`, a
    pseudonym that is empty for an anonymous report (optional: added by the access-control issue).
    `reported_by` is the person who entered it (the token's subject)."""

    class Meta:
        unknown = RAISE

    clue_id = ident()
    community_id = ident()
    category = code(CLUE_CATEGORIES)
    source = code(CLUE_SOURCES)
    title = text(100)
    description = text(4000)
    subject_name = text(200, required=False)
    credit_code = text(18, required=False)
    address = text(300, required=False)
    found_at = instant()
    reported_by = ident(required=False)
    reporter_id = ident(required=False)


class IdentityReadV1(Schema):
    """Someone read a reporter's identity (审计：查阅举报人身份). Recorded before the identity is
    returned, so there is no read without its audit record. `disclosed` is false when the
    identity had been erased and only a tombstone was shown."""

    class Meta:
        unknown = RAISE

    reporter_id = ident()
    clue_id = ident()
    reason = code(IDENTITY_READ_REASONS)
    reference = ident(required=False)  # e.g. the reward approval or court order number
    reader_role = ident()
    disclosed = fields.Boolean(required=True, truthy={True}, falsy={False})


class IdentityErasedV1(Schema):
    """A reporter's identity was erased: its data key was destroyed (crypto-shredding). The sealed
    data left anywhere can no longer be opened; this event and the clue stay."""

    class Meta:
        unknown = RAISE

    reporter_id = ident()
    clue_id = ident()
    reason = code(ERASURE_REASONS)
    reference = ident(required=False)


REGISTRY.register("clue.reported", ClueReportedV1, description="线索已上报 a clue was reported")
REGISTRY.register("audit.identity_read", IdentityReadV1, description="举报人身份被查阅 a reporter's identity was read")
REGISTRY.register("reporter.identity_erased", IdentityErasedV1,
                  description="举报人身份已删除 a reporter's identity was erased (crypto-shredding)")
