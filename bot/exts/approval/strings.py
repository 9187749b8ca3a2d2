"""The words of approval mode (added to the catalog on import)."""

from __future__ import annotations

from bot.i18n import add_strings

add_strings(
    {
        "en": {
            "approval.waiting": "A result for {member} in {channel} is waiting for approval.",
            "approval.approved": "Approve",
            "approval.rejected": "Reject",
            "approval.approved_by": "✅ Approved by {moderator}; it has been posted.",
            "approval.rejected_by": "⛔ Rejected by {moderator}; the member was told it will not be shown.",
            "approval.already": "Someone has already decided about this result.",
        },
        "zh-CN": {
            "approval.waiting": "{channel} 中 {member} 的结果正在等待批准。",
            "approval.approved": "批准",
            "approval.rejected": "拒绝",
            "approval.approved_by": "✅ 已由 {moderator} 批准并发布。",
            "approval.rejected_by": "⛔ 已由 {moderator} 拒绝；已告知成员不会显示。",
            "approval.already": "已有人对此结果作出决定。",
        },
    }
)
