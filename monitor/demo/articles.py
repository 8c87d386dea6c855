"""The demo's news coverage: articles written for `monitor demo`, in two outlets' feeds.

Some sentences repeat baseline claims (the bundled CDMedia articles of 2022), some update them (a new troop
estimate, missiles transferred and put on combat duty) and some contradict them (a denial, a reversal);
the rest is the ordinary context a news report carries. Every outlet, author and quote is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewsArticle:
    """One article of the demo site: served at `/news/<slug>`, listed in its feed."""

    slug: str
    title: str
    author: str
    summary: str
    paragraphs: tuple[str, ...]
    hours_ago: float = 2.0  # its publication time, relative to when the site starts


BORDER_DESK = (
    NewsArticle(
        slug="belarus-troop-estimate-raised",
        title="Western officials raise their estimate of Belarusian troops ready for combat",
        author="Marta Lewandowska",
        summary="New intelligence assessments put the number of deployable Belarusian soldiers higher than before.",
        hours_ago=5.0,
        paragraphs=(
            "VILNIUS — Western defence officials now estimate that Minsk has around 20,000 troops that could take "
            "part in a possible invasion, according to an assessment shared with allied governments this week.",
            "The figure is higher than estimates circulated two years ago, when analysts judged the Belarusian "
            "army too small and too poorly trained to matter on the battlefield.",
            "Officials who briefed reporters on condition of anonymity said the increase reflected a wave of "
            "reservist call-ups in the Brest and Gomel regions and the return of units from training ranges in "
            "Russia.",
            "Still, the Belarusian army does not have enough troops to fight a war against its southern neighbor, "
            "one official said, describing the new units as better suited to guarding the border than to an "
            "offensive.",
            "The Belarusian defence ministry did not respond to a request for comment. State television showed "
            "President Alexander Lukashenko inspecting an airborne brigade near Vitebsk on Monday.",
        ),
    ),
    NewsArticle(
        slug="iskander-combat-duty",
        title="Iskander-M launchers in Belarus put on combat duty, Minsk says",
        author="Pavel Sakharau",
        summary="The Belarusian defence ministry says the Russian-made missile systems are now on combat duty.",
        hours_ago=3.5,
        paragraphs=(
            "MINSK — Russia has transferred to Belarus Iskander-M tactical missile systems that can use ballistic "
            "or cruise missiles in their conventional and nuclear versions, the Belarusian defence ministry said "
            "on Tuesday.",
            "Russia has put on combat duty the Iskander-M tactical missile systems it transferred to Belarus, the "
            "ministry added in a statement read out on state television.",
            "The ministry did not say where the launchers are based. Independent monitoring groups have reported "
            "rail convoys carrying heavy equipment towards the town of Asipovichy over the past month.",
            "Ukrainian officials called the announcement an attempt to intimidate Kyiv and its neighbours, and "
            "said air defence units in the north had been put on higher alert.",
        ),
    ),
    NewsArticle(
        slug="lukashenko-denies-missile-launches",
        title="Lukashenko says Russian missiles were never launched from Belarus",
        author="Marta Lewandowska",
        summary="In a televised interview the Belarusian leader rejected reports of launches from his territory.",
        hours_ago=1.5,
        paragraphs=(
            "MINSK — Alexander Lukashenko said the Russian Army has never fired Iskander missiles from Belarus, "
            "contradicting his own remarks from the first days of the full-scale invasion.",
            "Minsk has never allowed Russian troops to use its territory to launch the invasion, the Belarusian "
            "leader told a state broadcaster in an interview recorded at his residence outside the capital.",
            "Ukrainian officials dismissed the claims, pointing to the columns of Russian vehicles that crossed "
            "from Belarus towards Kyiv in February 2022 and to missile strikes recorded by their radar units.",
            "Analysts in Warsaw said the interview appeared aimed at audiences in the West, where Minsk has been "
            "seeking to ease sanctions on potash and fertiliser exports.",
        ),
    ),
)

MINSK_MONITOR = (
    NewsArticle(
        slug="kyiv-fortifies-northern-border",
        title="Kyiv keeps building fortifications on the Belarusian border",
        author="Olena Hrytsenko",
        summary="New trenches, mine fields and anti-tank obstacles appear along Ukraine's northern border.",
        hours_ago=4.0,
        paragraphs=(
            "RIVNE — Kyiv has already started tightening up the defense of Ukraine's border with Belarus, with "
            "new trenches and anti-tank obstacles now visible along roads in the Volyn and Rivne regions.",
            "Regional officials said work crews had been digging through the winter and that the first line of "
            "fortifications would be finished before the summer.",
            "Russia is expected to stop using Belarusian territory for attacks on Ukraine, a senior Ukrainian "
            "border guard commander said, although he warned that the threat from the north had not disappeared.",
            "Residents of villages near the border said they had grown used to the sound of construction "
            "machinery, and that most families who left in 2022 had come back.",
        ),
    ),
    NewsArticle(
        slug="belarus-militia-drills",
        title="Belarus expands territorial defence as joint drills with Russia continue",
        author="Siarhei Kazlou",
        summary="Minsk trains volunteers for a reserve force while battalion-level exercises go on.",
        hours_ago=0.5,
        paragraphs=(
            "HRODNA — Belarus has started forming people's militias as a reserve force of its territorial "
            "defence, local officials said, with volunteers training on weekends at former army bases.",
            "The Russian and Belarusian armies continue holding joint battalion-level drills in Belarus, the "
            "defence ministry in Minsk said, without saying how many Russian soldiers take part.",
            "Russia decreased the number of airstrikes on Ukraine from Belarusian territory, according to "
            "Ukrainian air force data reviewed by the outlet, which recorded no launches from Belarus this month.",
            "Opposition groups abroad said some of the volunteers had been pressed to sign up by their employers "
            "at state factories.",
        ),
    ),
)

# Feed name -> (outlet, articles). Each feed is one source of the demo database.
DEMO_FEEDS: dict[str, tuple[str, tuple[NewsArticle, ...]]] = {
    "border-desk": ("Border Desk", BORDER_DESK),
    "minsk-monitor": ("Minsk Monitor", MINSK_MONITOR),
}
