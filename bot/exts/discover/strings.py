"""The words of discovery (added to the catalog on import)."""

from __future__ import annotations

from bot.i18n import add_strings

add_strings(
    {
        "en": {
            "discover.title": "Picked for you on this server",
            "discover.similar_title": "More like this",
            "discover.empty": "Nothing new to show you here yet. Come back when members have made more.",
            "discover.similar_empty": "Nothing like it here yet.",
            "discover.line": "**{n}.** {icon} {what} — by {creator} · {when}{link}",
            "discover.new_creator": " ✨",
            "discover.footer": "▶ play or see · ➕ more like this · ✖ not for me",
            "discover.next": "Next page",
            "discover.more": "More like this",
            "discover.optout": "You're out of discovery: your reactions, plays and clicks are no longer kept, "
            "and the {count} already kept were deleted. `/discover action:optin` brings you back.",
            "discover.optin": "You're back in discovery: what you engage with will shape your feed again.",
            "discover.opted_out": "You opted out of discovery, so this feed is the server's popular and new "
            "work, not picked for you. `/discover action:optin` to have it picked for you again.",
            "discover.not_for_me": "Got it: you won't see that again, and less like it.",
            "discover.gone": "That item is no longer here.",
            "discover.restricted": "That is age-restricted: open it from an age-restricted channel.",
            "discover.unknown_job": "No result of this server matches `{job}`.",
            "discover.not_indexed": "That result isn't in discovery yet (only delivered results are).",
            "discover.disabled": "Discovery is turned off on this bot.",
            "discover.open": "open",
        },
        "zh-CN": {
            "discover.title": "本服务器为你挑选",
            "discover.similar_title": "更多类似作品",
            "discover.empty": "这里还没有新的作品可以推荐。等成员们创作更多后再来看看。",
            "discover.similar_empty": "这里还没有类似的作品。",
            "discover.line": "**{n}.** {icon} {what} — 作者 {creator} · {when}{link}",
            "discover.new_creator": " ✨",
            "discover.footer": "▶ 播放或查看 · ➕ 更多类似 · ✖ 不感兴趣",
            "discover.next": "下一页",
            "discover.more": "更多类似",
            "discover.optout": "你已退出发现功能：不再保存你的表情、播放和点击，已保存的 {count} 条已删除。"
            "使用 `/discover action:optin` 重新加入。",
            "discover.optin": "你已重新加入发现功能：你的互动将再次影响你的推荐。",
            "discover.opted_out": "你已退出发现功能，所以这里显示的是本服务器热门和最新的作品，而非为你挑选。"
            "使用 `/discover action:optin` 重新加入。",
            "discover.not_for_me": "知道了：你不会再看到它，类似的也会更少。",
            "discover.gone": "该作品已不在这里。",
            "discover.restricted": "该作品有年龄限制：请在年龄限制频道中打开。",
            "discover.unknown_job": "本服务器没有与 `{job}` 匹配的结果。",
            "discover.not_indexed": "该结果还不在发现功能中（只有已送达的结果才会加入）。",
            "discover.disabled": "此机器人已关闭发现功能。",
            "discover.open": "打开",
        },
    },
    {
        "zh-CN": {
            "discover": "发现",
            "A feed of this server's work picked for you; opt out or back in.": "为你挑选的本服务器作品；可退出或重新加入。",
            "similar": "相似",
            "Work on this server like one of its results.": "本服务器中与某个结果相似的作品。",
            "Only this kind of work": "只看这类作品",
            "A job id (or the first 6+ characters)": "任务 ID（或前 6 位以上）",
            "feed": "推荐",
            "optout": "退出",
            "optin": "加入",
            "any": "全部",
            "music": "音乐",
            "image": "图像",
            "text": "文字",
        },
    },
)
