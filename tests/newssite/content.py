"""The site's articles (written for these tests) and the HTML around them.

Some sentences repeat, update or contradict the baseline claims (the seed articles in shared/seeds), so a
crawl of this site produces matches of every verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    paragraphs: tuple[str, ...]
    published: str  # ISO 8601
    language: str
    author: str = "Staff reporter"
    canonical: str | None = None  # path (may carry tracking parameters, as real CMSs do)


EN_TROOPS = Page(
    path="/news/2024/05/14/belarus-troops-border-buildup",
    canonical="/news/2024/05/14/belarus-troops-border-buildup?utm_source=cms&utm_medium=canonical",
    title="Belarus keeps troops near the Ukrainian border as Kyiv reinforces the north",
    published="2024-05-14T09:30:00+00:00",
    language="en",
    author="Anna Kowalska",
    paragraphs=(
        "Ukrainian officials say the situation on the northern border remains tense but stable, with no sign of "
        "an imminent offensive from Belarusian territory.",
        "Some experts believe that Minsk has only around 9,000 troops that could take part in a possible invasion.",
        "Kyiv has already started tightening up the defense of Ukraine's border with Belarus.",
        "Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus.",
        "Belarus did not allow Russian troops to use its territory to launch the invasion in February.",
        "Western diplomats in Vilnius said the border guards on both sides had been rotated twice this spring, "
        "and that satellite images showed fewer vehicles at the training grounds near Mozyr than a year ago.",
        "Military analysts in Warsaw cautioned that the numbers could change quickly if the Kremlin decided "
        "to move additional units north, as it did in the winter of 2022 before the full-scale invasion began.",
        "Residents of border villages told reporters that life had largely returned to normal, although the "
        "checkpoints remain closed and families on either side still cannot visit each other.",
    ),
)

EN_SITEMAP_ONLY = Page(
    path="/news/2024/05/20/iskander-systems-delivered-to-belarus",
    title="Russia says Iskander systems are now in Belarus",
    published="2024-05-20T12:00:00+00:00",
    language="en",
    paragraphs=(
        "Moscow has transferred to Belarus Iskander-M tactical missile systems which can use ballistic or "
        "cruise missiles in their conventional and nuclear versions.",
        "The Belarusian army does not have enough troops to fight a war against its southern neighbor.",
        "Officials in Minsk presented the delivery as a defensive measure and declined to say where the "
        "launchers are based, citing the security of the Union State.",
        "Independent monitoring groups have tracked rail shipments of heavy equipment across the border for "
        "several weeks, and say the latest convoy arrived at a depot west of the capital.",
    ),
)

RU_ARTICLE = Page(
    path="/ru/news/2024/05/15/lukashenko-granica",
    title="Лукашенко заявил о ситуации на границе с Украиной",
    published="2024-05-15T08:00:00+03:00",
    language="ru",
    paragraphs=(
        "Президент Беларуси Александр Лукашенко заявил, что белорусская армия не собирается вступать в "
        "войну против Украины.",
        "По его словам, войска остаются в местах постоянной дислокации, а учения проходят по плану.",
        "Украинские пограничники сообщают, что активность у границы в Гомельской области снизилась.",
        "Эксперты в Киеве считают, что Минск продолжает балансировать между требованиями Москвы и "
        "нежеланием белорусского общества участвовать в войне.",
    ),
)

UK_ARTICLE = Page(
    path="/uk/novyny/2024/05/16/bilorus-kordon-pivnich",
    title="Україна посилює оборону північного кордону з Білоруссю",
    published="2024-05-16T10:15:00+03:00",
    language="uk",
    paragraphs=(
        "Україна продовжує посилювати оборону кордону з Білоруссю, повідомили в Державній прикордонній службі.",
        "За словами речника, на півночі будують нові фортифікаційні споруди та мінують підходи до кордону.",
        "Українська розвідка не бачить ознак підготовки наступу з білоруської території найближчим часом.",
        "Водночас у Києві наголошують, що загроза з півночі зберігається, поки російські війська перебувають "
        "у Білорусі.",
    ),
)

CP1251_ARTICLE = Page(
    path="/ru/archive/mozyr-nps-2024.html",
    title="Мозырский НПЗ работает в обычном режиме",
    published="2024-05-17T07:00:00+03:00",
    language="ru",
    paragraphs=(
        "Мозырский нефтеперерабатывающий завод в Беларуси работает в обычном режиме, сообщили на предприятии.",
        "Ранее в соцсетях распространялись слухи о возможной диверсии на заводе, которые не подтвердились.",
        "Лукашенко неоднократно заявлял, что удар по Мозырю станет поводом для ответа.",
    ),
)

RECOVERING_ARTICLE = Page(
    path="/news/2024/05/18/minsk-talks-after-outage",
    title="Talks in Minsk resume after a week of delays",
    published="2024-05-18T16:45:00+00:00",
    language="en",
    paragraphs=(
        "Delegations met in Minsk on Saturday after a week of delays, according to the Belarusian foreign ministry.",
        "Diplomats said the talks focused on prisoner exchanges and on the reopening of border crossings for "
        "humanitarian convoys.",
        "No joint statement was issued, but both sides agreed to meet again next month.",
    ),
)

OFF_TOPIC = Page(
    path="/lifestyle/2024/05/12/cheese-festival-porto-record-crowds",
    title="Cheese festival in Porto draws record crowds",
    published="2024-05-12T11:00:00+00:00",
    language="en",
    paragraphs=(
        "A cheese festival in Porto drew record crowds this weekend, with more than forty producers from the "
        "north of Portugal presenting their work.",
        "Organisers said the queues for the tasting tent stretched along the river for most of Saturday.",
        "Next year's edition will move to a larger venue near the old market hall.",
    ),
)

SYNDICATED_PATH = "/partner/wire/belarus-keeps-troops-near-border"
# The partner republishes the story with its own headline and a credit line, and no canonical link.
SYNDICATED_COPY = Page(
    path=SYNDICATED_PATH,
    title="Wire: Belarusian troops stay near the border",
    published=EN_TROOPS.published,
    language="en",
    author="Wire service",
    paragraphs=(*EN_TROOPS.paragraphs, "This story first appeared on the Border Desk news site."),
)

GOOD_ARTICLES = (EN_TROOPS, EN_SITEMAP_ONLY, RU_ARTICLE, UK_ARTICLE, CP1251_ARTICLE, RECOVERING_ARTICLE)
ALL_PAGES = (*GOOD_ARTICLES, OFF_TOPIC, SYNDICATED_COPY)

_NAV = """<header class="site-header"><a href="/">Border Desk</a>
<nav><ul><li><a href="/section/belarus/">Belarus</a></li><li><a href="/section/ukraine/">Ukraine</a></li>
<li><a href="/about">About us</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>"""

_RELATED = """<aside class="related"><h3>Related</h3><ul>
<li><a href="/news/2023/11/02/older-story-one">Older story about something else entirely</a></li>
<li><a href="/news/2023/10/07/older-story-two">Another older story from the archive</a></li></ul></aside>"""

_FOOTER = """<footer><p>© 2024 Border Desk. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p></footer>"""


def render_article(page: Page, *, declare_charset: bool = True) -> str:
    """The article as a full HTML page with navigation, a related list, comments and a footer."""
    charset = '<meta charset="utf-8">' if declare_charset else ""
    canonical = f'<link rel="canonical" href="{escape(page.canonical)}">' if page.canonical else ""
    body = "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in page.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{page.language}"><head>{charset}<title>{escape(page.title)} | Border Desk</title>
{canonical}
<meta property="og:title" content="{escape(page.title)}">
<meta property="article:published_time" content="{page.published}">
<meta name="author" content="{escape(page.author)}">
</head><body>{_NAV}
<main><article><h1>{escape(page.title)}</h1>
<p class="byline">By {escape(page.author)}</p>
<div class="article-body">
{body}
</div></article>
{_RELATED}
<section class="comments"><h3>Comments</h3><div class="comment"><p>Great article, thanks!</p></div></section>
</main>{_FOOTER}</body></html>"""


def render_section(links: list[str]) -> str:
    items = "\n".join(f'<li><a href="{escape(link)}">Story {i}</a></li>' for i, link in enumerate(links, 1))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Belarus | Border Desk</title>
</head><body>{_NAV}<main><h1>Belarus</h1><ul class="stories">
{items}
<li><a href="/tag/lukashenko">Lukashenko</a></li>
<li><a href="/author/anna-kowalska">Anna Kowalska</a></li>
<li><a href="https://elsewhere.example.org/news/2024/05/14/some-other-site-story">Elsewhere</a></li>
<li><a href="/images/2024/05/14/photo-of-the-border-at-dawn.jpg">Photo</a></li>
</ul></main>{_FOOTER}</body></html>"""
