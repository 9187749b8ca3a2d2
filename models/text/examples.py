"""One worked example per form, in English and Chinese, shown to the model before the request.

A small model copies the shape of the turn before better than it follows an instruction, so the
conversation carries one exchange in the form asked for, on a subject unlike most requests (an old
lighthouse, a night train, a lost umbrella). Line and item examples are sliced to the length asked.
"""

from __future__ import annotations

from models.text.forms import Language

SUBJECT = {"en": "an old lighthouse", "zh": "老灯塔"}

HAIKU = {
    "en": "Salt wind on the stairs\nthe old lamp turns through the fog\nships pass in the dark",
    "zh": "海风吹上台阶\n旧灯在雾里转动\n船影掠过黑夜",
}

LIMERICK = (
    "A keeper who lived by the sea\n"
    "kept a lamp that was bright as could be.\n"
    "When the fog rolled in thick,\n"
    "he would light it up quick,\n"
    "and the ships sailed home safe for their tea."
)

# Sliced to the number of lines asked for (up to 16).
LINES = {
    "en": [
        "The lighthouse stands where the cliffs turn grey,",
        "its lamp still sweeping the edge of the bay.",
        "The keeper climbs the winding stair",
        "with salt and lantern smoke in his hair.",
        "Below, the tide pulls at the stones,",
        "the gulls cry out in tired tones,",
        "and far away a fishing boat",
        "follows the light, a small warm note.",
        "The storm comes down, the windows shake,",
        "the beam holds on for the sailors' sake.",
        "At dawn the sea lies calm and wide,",
        "the lamp grows pale, its work inside.",
        "The keeper sleeps, the tower stays,",
        "a patient guard of nights and days.",
        "The fog returns, the lamp awakes,",
        "and turns again for all our sakes.",
    ],
    "zh": [
        "灯塔站在灰色的悬崖上，",
        "灯光扫过安静的海湾。",
        "守塔人爬上旋转的楼梯，",
        "头发里有海盐和烟的味道。",
        "潮水拉扯着岸边的石头，",
        "海鸥在风里疲倦地呼喊，",
        "远处有一条小小的渔船，",
        "跟着灯光慢慢回到港口。",
        "暴风雨来了，窗户在摇晃，",
        "灯光为水手们一直亮着。",
        "天亮时大海又变得平静，",
        "灯光淡了，它的工作完成。",
        "守塔人睡了，灯塔还在，",
        "日日夜夜耐心地守望。",
        "雾又来了，灯又醒来，",
        "为我们再一次转动。",
    ],
}

JUEJU = {
    5: "灯塔立海边，\n夜夜照归船。\n风急涛声远，\n星低月未眠。",
    7: "海上孤灯照夜寒，\n归帆点点过前滩。\n风吹白浪声声远，\n月落潮平天色宽。",
}
LUSHI = {
    5: "灯塔立海边，\n夜夜照归船。\n风急涛声远，\n星低月未眠。\n潮生沙岸白，\n雾散远山青。\n渔火三更尽，\n钟声到客亭。",
    7: (
        "海上孤灯照夜寒，\n归帆点点过前滩。\n风吹白浪声声远，\n月落潮平天色宽。\n"
        "老守楼头常独坐，\n孤鸥岸上不知还。\n年年照得归人路，\n一点微光在世间。"
    ),
}

SONG_SUBJECT = {"en": "a night train", "zh": "夜班火车"}
# kind → lines (up to eight) of each part, for the labels asked for
SONG = {
    "en": {
        "verse": [
            "The station lights are fading slow,",
            "the carriage hums, the rails below,",
            "a window shows the sleeping town,",
            "the night is long, the blinds are down.",
            "I count the stops I never see,",
            "the dark goes rushing past for me,",
            "a stranger hums a half-known song,",
            "and carries me the whole night long.",
        ],
        "verse2": [
            "The morning waits beyond the hill,",
            "the cups are cold, the air is still,",
            "I hold your letter in my hand,",
            "the train rolls on across the land.",
            "The fields are silver, then they're gold,",
            "the stories on this train get old,",
            "but every mile that brings me near",
            "is one more mile away from fear.",
        ],
        "chorus": [
            "Oh, night train, carry me home,",
            "over the hills where the wild winds roam,",
            "rock me slow till the morning comes,",
            "sing me the song of the iron drums.",
            "Oh, night train, don't let me go,",
            "down through the valleys, soft and low,",
            "rock me slow till the city wakes,",
            "sing till the light of the morning breaks.",
        ],
        "bridge": [
            "And if the tracks run out of line,",
            "I'll walk the rest, I'll be fine.",
            "The stars will show me where to go,",
            "the road is long but the heart is slow.",
            "",
            "",
            "",
            "",
        ],
    },
    "zh": {
        "verse": [
            "站台的灯光慢慢变暗，",
            "车厢轻轻摇，铁轨在响，",
            "窗外是沉睡的小城，",
            "夜很长，窗帘都放下。",
            "我数着看不见的车站，",
            "黑暗从我身边飞过，",
            "陌生人哼着熟悉的歌，",
            "陪我走过整个夜晚。",
        ],
        "verse2": [
            "清晨在山那边等待，",
            "茶已经凉了，风也停了，",
            "我握着你写来的信，",
            "火车穿过无边的田野。",
            "田野先是银色，后来金黄，",
            "车上的故事讲了又讲，",
            "每一里路把我带近，",
            "也让我离害怕更远。",
        ],
        "chorus": [
            "夜班火车，带我回家，",
            "穿过山岗，穿过风沙，",
            "轻轻摇我直到天亮，",
            "唱着铁轨的歌回到故乡。",
            "夜班火车，不要停下，",
            "穿过山谷，穿过晚霞，",
            "轻轻摇我直到城市醒来，",
            "唱到晨光照进窗台。",
        ],
        "bridge": [
            "如果铁轨走到尽头，",
            "我就自己走完剩下的路。",
            "星星会告诉我方向，",
            "路很长，心却不慌。",
            "",
            "",
            "",
            "",
        ],
    },
}

IDEAS_SUBJECT = {"en": "a lighthouse in winter", "zh": "冬天的灯塔"}
PROMPT_IDEAS = {
    "en": [
        "A lighthouse on a frozen cliff, oil painting, cold blue moonlight, lonely and calm",
        "A keeper carrying a lantern up a spiral stair, watercolour, warm candle glow, quiet and cosy",
        "A lighthouse beam cutting through falling snow, photograph, night, mysterious",
        "Icicles hanging from a red lighthouse, children's book illustration, soft morning light, cheerful",
        "A ship passing a snowy lighthouse, ink drawing, stormy dusk, dramatic",
        "The lamp room seen from inside, digital art, golden light, peaceful",
        "A lighthouse reflected in a frozen bay, pastel, pink sunrise, gentle",
        "Seagulls resting on a snowy railing, pencil sketch, grey daylight, still",
        "A lighthouse under the northern lights, photograph, green sky glow, magical",
        "An abandoned lighthouse in a blizzard, charcoal, dim light, eerie",
        "A fox walking past a lighthouse at dawn, gouache, soft orange light, curious",
        "A tiny lighthouse inside a snow globe, 3D render, studio light, playful",
    ],
    "zh": [
        "结冰悬崖上的灯塔，油画，冷蓝色月光，孤独而平静",
        "守塔人提着灯走上旋转楼梯，水彩，温暖的烛光，安静舒适",
        "灯塔的光束穿过飘雪，摄影，夜晚，神秘",
        "红色灯塔上挂着冰柱，儿童绘本插画，柔和的晨光，欢快",
        "一艘船经过雪中的灯塔，水墨，暴风雨的黄昏，壮观",
        "从里面看灯室，数字艺术，金色灯光，宁静",
        "倒映在冰冻海湾里的灯塔，粉彩，粉色日出，温柔",
        "海鸥停在积雪的栏杆上，铅笔素描，灰色的白天，安静",
        "北极光下的灯塔，摄影，绿色天空，梦幻",
        "暴风雪中废弃的灯塔，炭笔画，昏暗的光，诡异",
        "黎明时一只狐狸走过灯塔，水粉，柔和的橙色光，好奇",
        "雪花球里的小灯塔，三维渲染，棚拍灯光，俏皮",
    ],
}
THEMES = {
    "en": [
        "Guiding Lights: show something that helps others find their way home.",
        "Winter Watch: share a piece about keeping going through the longest night.",
        "Salt and Stone: make something from the textures of the coast.",
        "The Keeper: tell us about someone who looks after a place alone.",
        "Beam of Hope: create a work where one small light changes everything.",
        "Foghorn: write or compose something you can hear from far away.",
        "Spiral Stairs: show a journey that goes round and round and upward.",
        "Shipwreck Stories: imagine what the sea remembers.",
        "Last Lamp: share the end of something, and what comes after.",
        "Northern Nights: make a piece lit only by the sky.",
        "Tide Tables: show time passing in a place that never moves.",
        "Harbour Home: create your picture of a safe place to land.",
    ],
    "zh": [
        "指引之光：展示一样帮助别人找到回家路的东西。",
        "冬夜守望：分享一件关于熬过最长夜晚的作品。",
        "盐与石：用海岸的质感创作一件作品。",
        "守塔人：讲一个独自照看一个地方的人。",
        "希望之光：创作一件一点小光改变一切的作品。",
        "雾笛：写或作一段远处也能听见的声音。",
        "旋转楼梯：展示一段不断向上的旅程。",
        "沉船故事：想象大海记得的事情。",
        "最后一盏灯：分享一件事的结束，以及之后的事。",
        "北方之夜：创作一件只被天空照亮的作品。",
        "潮汐表：展示一个永远不动的地方里时间的流逝。",
        "港湾之家：画出你心中安全靠岸的地方。",
    ],
}
IDEAS = {
    "en": [
        "Paint the lighthouse from the point of view of a passing ship.",
        "Write a letter from the keeper to the sea.",
        "Draw the tower in the four seasons, side by side.",
        "Record the sounds of a stormy night at the coast.",
        "Design a stamp for the lighthouse's hundredth birthday.",
        "Tell the story of the last night the lamp was lit.",
        "Make a map of every ship the lighthouse has guided.",
        "Sketch the keeper's kitchen by lamplight.",
        "Compose a short tune for the turning of the lamp.",
        "Photograph a small light in a big darkness.",
        "Build a tiny lighthouse out of things from your desk.",
        "Write a poem that the lamp would sing.",
    ],
    "zh": [
        "从一艘路过的船的角度画灯塔。",
        "写一封守塔人写给大海的信。",
        "把灯塔的四季并排画出来。",
        "录下海边暴风雨之夜的声音。",
        "为灯塔一百岁生日设计一张邮票。",
        "讲灯最后一次亮起的那个夜晚。",
        "画一张灯塔指引过的所有船的地图。",
        "在灯光下速写守塔人的厨房。",
        "为灯的转动写一段短曲。",
        "拍一张黑暗中一点小光的照片。",
        "用桌上的东西做一座小灯塔。",
        "写一首灯会唱的诗。",
    ],
}

STORY_SUBJECT = {"en": "a lost umbrella", "zh": "一把丢失的雨伞"}
SENTENCES = {
    "en": [
        "Mina left her red umbrella on the morning bus.",
        "It rode all day through the city, from stop to stop.",
        "A boy used it to keep his homework dry.",
        "An old man borrowed it to shade his flowers at the market.",
        "By evening it was back on the same bus, a little wetter and a little wiser.",
        "Mina climbed aboard on her way home and saw it waiting under her seat.",
        "She laughed and picked it up.",
        "Outside, the rain had just begun.",
        "She opened it and walked home slowly.",
        "The umbrella had never been happier.",
    ],
    "zh": [
        "米娜早上把红雨伞忘在了公交车上。",
        "雨伞跟着公交车在城市里走了一整天。",
        "一个男孩用它挡住了作业本上的雨。",
        "一位老人在市场上借它给花遮阳。",
        "傍晚，它又回到了同一辆车上。",
        "米娜下班上车，看见它在座位下面等她。",
        "她笑着把它捡了起来。",
        "外面刚好开始下雨。",
        "她撑开雨伞，慢慢走回家。",
        "雨伞从来没有这么开心过。",
    ],
}


def song_part(language: Language, kind: str, index: int, lines: int) -> list[str]:
    """Example lines for a part of kind "verse" (the `index`th verse), "chorus" or "bridge"."""
    parts = SONG[language]
    key = "verse2" if kind == "verse" and index % 2 == 1 else kind
    body = [line for line in parts.get(key, parts["verse"]) if line]
    while len(body) < lines:
        body = body + body
    return body[:lines]
