"""Proposition alignment (`monitor.matching.alignment`): the parts on which two claims disagree."""

from __future__ import annotations

from monitor.matching.alignment import conflicts
from monitor.matching.lexicon import default_lexicon
from monitor.matching.normalize import analyze_claim

FIRED = "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus."


def kinds(new: str, base: str) -> list[str]:
    lexicon = default_lexicon()
    return [c.kind for c in conflicts(lexicon, analyze_claim(new, lexicon), analyze_claim(base, lexicon))]


def test_an_interception_is_not_a_launch_in_any_script() -> None:
    assert kinds("According to Lukashenko, all the missiles were intercepted.", FIRED) == ["event"]
    assert kinds("Лукашенко заявил, что все ракеты были перехвачены.", FIRED) == ["event"]
    assert kinds("За словами Лукашенка, всі ракети були перехоплені.", FIRED) == ["event"]


def test_a_claim_that_tells_the_launch_too_speaks_to_it() -> None:
    assert kinds("Russia fired missiles from Belarus, most of which Ukraine intercepted.", FIRED) == []


def test_an_interception_speaks_to_an_interception() -> None:
    base = "Belarusian air defence shot down a drone over Mozyr."
    assert kinds("A drone was intercepted over Mozyr, Minsk said.", base) == []


def test_the_event_conflict_names_the_word() -> None:
    lexicon = default_lexicon()
    new, base = analyze_claim("All the rockets were shot down.", lexicon), analyze_claim(FIRED, lexicon)
    (conflict,) = conflicts(lexicon, new, base)
    assert conflict.describe() == "reports that something was shot down, which the baseline claim does not"


def test_the_number_of_something_is_a_count_of_it() -> None:
    base = "Indeed, reports suggest that Russia significantly increased the number of airstrikes on Ukraine."
    assert kinds("Russia has sharply reduced the number of its troops in Belarus.", base) == ["count"]
    assert kinds("Russia decreased the number of airstrikes on Ukraine from Belarusian territory.", base) == []


def test_down_in_a_figure_is_no_interception() -> None:
    """ "Downed" is a word of the interception, not its stem: "down from 10,000" tells a figure."""
    base = "With only 9,000 troops in Belarus, Russia can seize some villages in northern Ukraine."
    assert kinds("About 2,000 Russian soldiers remain in Belarus, down from 10,000 in January.", base) == []
    assert kinds("Belarusian air defence downed a drone over Mozyr.", FIRED) == ["event"]


def test_forces_of_another_nation_are_another_proposition() -> None:
    base = "On February 25 Russian troops seized the Chernobyl plant: they have entered Ukrainian territory."
    assert kinds("Lukashenko denied that Belarusian troops had entered Ukraine.", base) == ["forces"]
    assert kinds("Белорусские войска вошли в Украину.", base) == ["forces"]
    # A place is not whose forces they are; the same nation named on both sides agrees.
    assert kinds("Troops in Belarus have entered Ukraine.", base) == []
    assert kinds("Russian and Belarusian troops have entered Ukraine.", base) == []
    # "Military" before another noun is no army: "Russian military operations" are Belarus's troops' here.
    joined = "Belarusian troops have reportedly entered Ukraine and joined Russian military operations there."
    assert kinds("Russian troops have entered Ukraine.", joined) == ["forces"]


def test_the_forces_conflict_names_both_sides() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Belarusian troops have entered Ukraine.", lexicon)
    base = analyze_claim("Russian troops have entered Ukraine.", lexicon)
    (conflict,) = conflicts(lexicon, new, base)
    assert conflict.describe() == "is about belarusian troops, the baseline claim about russian troops"


def test_a_delivery_is_another_event_than_a_strike() -> None:
    transfer = "Russia has completed the transfer of Iskander-M missile systems to Belarus."
    assert kinds(transfer, FIRED) == ["other event"]
    assert kinds("Russia fired the Iskander missiles it had transferred to Belarus.", FIRED) == []
    # A kind in no family (withdrawn) stands with either.
    assert kinds("Russia has withdrawn its Iskander missiles from Belarus.", FIRED) == []
    lexicon = default_lexicon()
    (conflict,) = conflicts(lexicon, analyze_claim(transfer, lexicon), analyze_claim(FIRED, lexicon))
    assert conflict.describe() == "tells of transfer, the baseline claim of fired"


def test_troops_placed_in_belarus_are_not_belarus_own() -> None:
    """On this beat, troops in Belarus whose nation is not named are Russia's: a count of them is no count
    of the Belarusian soldiers who joined the Ukrainian army, and agrees with "Russian troops"."""
    joined = "According to some reports, dozens of Belarusian soldiers have already joined the Ukrainian Army."
    accumulated = "The accumulation of troops in Belarus continues and has reached 10.5 thousand military personnel."
    assert kinds(accumulated, joined) == ["forces"]
    assert kinds("Russian troops in Belarus now number about 10,000.", accumulated) == []
    assert kinds(accumulated, "The Russian and Belarusian armies continue holding joint drills in Belarus.") == []
    # Troops named by another word of the lexicon are not taken for Russia's.
    assert kinds("Polish troops in Belarus would be an escalation.", joined) == []
    lexicon = default_lexicon()
    (conflict,) = conflicts(lexicon, analyze_claim(accumulated, lexicon), analyze_claim(joined, lexicon))
    assert conflict.describe() == (
        "is about troops in belarus, the baseline claim about belarusian soldiers, ukrainian army"
    )


def test_a_receipt_is_a_delivery_not_a_strike() -> None:
    """ "Belarus received Iskander missiles" tells of their delivery, not of their being fired."""
    assert kinds("Belarus confirmed it had received Iskander missiles from Russia.", FIRED) == ["other event"]
    promised = "Moscow will transfer to Belarus Iskander-M tactical missile systems."
    assert kinds("Belarus received the Iskander missiles Russia had promised.", promised) == []


def test_troops_sent_into_a_country_are_not_placed_there() -> None:
    """ "Send its army into Ukraine" says where the army goes, and "its" whose it is: not Russia's."""
    base = "Lukashenko said that Belarus would never send its army into Ukraine."
    assert kinds("Lukashenko has sent the Belarusian army into Ukraine.", base) == []
    assert kinds("Belarus has moved its troops in Belarus to the border.", "Russian troops are in Belarus.") == []


def test_precise_figures_of_the_same_thing_are_the_same_count() -> None:
    """An updated figure speaks to the claim that gave the old one: the same thing counted, of one nation
    or none named, each a precise figure of all it counts."""
    from monitor.matching.alignment import same_count

    lexicon = default_lexicon()

    def same(new: str, base: str) -> bool:
        return same_count(lexicon, analyze_claim(new, lexicon), analyze_claim(base, lexicon))

    nine = "With only 9,000 troops in Belarus, Russia can seize some villages in northern Ukraine."
    assert same("Russia now has around 12,000 troops in Belarus.", nine)
    assert same("About 10,500 Russian military personnel are in Belarus.", nine)
    # Another thing counted, another nation's, a vague count, a share of the troops: no such figure.
    assert not same("Belarus has 290,000 military reservists.", nine)
    assert not same("About 10,000 Belarusian troops are in Ukraine.", "About 9,000 Russian troops are in Belarus.")
    assert not same("Dozens of Belarusian soldiers have joined the Ukrainian army.", nine)
    assert not same("Minsk has 12,000 troops that could take part in an invasion.", nine)
    # A share is the same count as a figure of the same share, not of another one.
    share = "Minsk has only around 12,000-15,000 troops that could take part in a possible invasion."
    assert same("The Belarusian army has around 45,000 troops that could take part in an invasion.", share)
    assert not same("Belarus has 48,000 troops in all.", share)
    assert not same("Minsk has 20,000 troops that guard the border.", share)


def test_a_strike_on_another_country_is_another_proposition() -> None:
    """An attack on Belarus is not one on Ukraine, nor one from Belarus; an attack on Kyiv is one on Ukraine."""
    lexicon = default_lexicon()
    new = analyze_claim("Lukashenko said the West was preparing to attack Belarus.", lexicon)
    base = analyze_claim("Russia is preparing to attack Ukraine.", lexicon)
    (conflict,) = conflicts(lexicon, new, base)
    assert conflict.describe() == "tells of attack belarus, the baseline claim of attack ukraine"
    assert "target" in kinds("NATO plans an attack on Belarus.", "Russia may attack its territory from Belarus.")
    assert "target" not in kinds("Russian forces attacked Kyiv again.", "the attacks on Ukraine continue")
    assert "target" not in kinds("Russia attacked Ukraine from Belarus.", "Russia launched an attack from Belarus.")


KYIV_BORDER = "Kyiv has already started tightening up the defense of Ukraine’s border with Belarus."


def test_a_border_with_another_neighbour_is_another_place() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Latvia reinforced its border with Belarus after a surge in migrant crossings.", lexicon)
    (conflict,) = conflicts(lexicon, new, analyze_claim(KYIV_BORDER, lexicon))
    assert conflict.kind == "border"
    assert conflict.describe() == "is about the border of latvia, the baseline claim about the border of ukraine"
    assert kinds("Литва укрепила границу с Беларусью.", KYIV_BORDER) == ["border"]


def test_the_same_border_or_a_country_named_on_both_sides_is_no_border_conflict() -> None:
    assert kinds("Ukraine has reinforced its border with Belarus with new fortifications.", KYIV_BORDER) == []
    # Ukraine's borders with Belarus and with Russia: the claim names Ukraine (Kyiv), as the other does.
    assert kinds("Kyiv decided to expand the mined strip along the borders with Belarus and Russia.", KYIV_BORDER) == []
    # No country beside the border: whose it is, the claim does not say.
    assert kinds("Latvia said Belarus had moved troops to the border.", KYIV_BORDER) == []


PARTICIPATING = "Belarus is actively participating in Russia’s invasion of Ukraine."


def test_joining_an_organisation_is_not_taking_part_in_the_war() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Belarus joined the Shanghai Cooperation Organisation in July 2024.", lexicon)
    (conflict,) = conflicts(lexicon, new, analyze_claim(PARTICIPATING, lexicon))
    assert conflict.kind == "other event"
    assert conflict.describe() == (
        "tells of joined the shanghai cooperation organisation, the baseline claim of participating"
    )


def test_joining_the_war_is_taking_part_in_it() -> None:
    assert kinds("Belarus joined the war on Russia's side.", PARTICIPATING) == []
    assert kinds("More than a thousand Belarusians have applied to join the unit.", PARTICIPATING) == []


CHERNOBYL = "On February 25 Russian troops seized control of the Chernobyl nuclear power plant."


def test_a_plant_elsewhere_is_another_place() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Nuclear power plant in Astravets started its second reactor.", lexicon)
    (conflict,) = conflicts(lexicon, new, analyze_claim(CHERNOBYL, lexicon))
    assert conflict.kind == "site"
    assert conflict.describe() == (
        "is about the nuclear power plant in astravets, the baseline claim about the chernobyl nuclear power plant"
    )
    assert kinds("A fire broke out at the Zaporizhzhia nuclear power plant.", CHERNOBYL) == ["site"]


def test_the_same_plant_or_one_named_by_its_country_is_no_site_conflict() -> None:
    assert kinds("Russian troops left the Chornobyl nuclear power plant on March 31.", CHERNOBYL) == []
    assert kinds("A Ukrainian nuclear power plant was seized by Russian troops.", CHERNOBYL) == []
    # Another kind of facility in another place: nothing to set against each other.
    assert "site" not in kinds("A fire broke out at the Naftan oil refinery in Novopolotsk.", CHERNOBYL)


SHOIGU_VISIT = (
    "The fact that prior to Putin’s trip to Belarus, Russian Defense Minister Sergey Shoigu also visited Minsk where"
    " he met not only with his Belarusian counterpart Viktor Khrenin, but also with Lukashenko."
)


def test_a_visit_elsewhere_is_another_trip() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Belarusian Defence Minister Khrenin visited Beijing.", lexicon)
    (conflict,) = conflicts(lexicon, new, analyze_claim(SHOIGU_VISIT, lexicon))
    assert conflict.kind == "visit"
    assert conflict.describe() == "tells of a visit to Beijing, the baseline claim of one to Belarus"
    assert kinds("Lukashenko flew to Moscow for talks with Putin.", SHOIGU_VISIT) == ["visit"]


def test_a_visit_to_a_capital_is_a_visit_to_its_country() -> None:
    assert kinds("Shoigu arrived in Minsk on Saturday.", SHOIGU_VISIT) == []
    assert kinds("Putin's visit to Belarus was his first in three years.", SHOIGU_VISIT) == []
    # A claim telling no visit has nothing to set against one.
    assert "visit" not in kinds("Khrenin said Belarus would strengthen its army.", SHOIGU_VISIT)


KYIV_BORDER = "Kyiv has already started tightening up the defense of Ukraine’s border with Belarus."
PRESSURE = (
    "The Kremlin has undoubtedly pressured Belarusian President Alexander Lukashenko to deploy troops in the conflict."
)


def test_the_same_act_by_another_country_is_another_agent() -> None:
    lexicon = default_lexicon()
    new = analyze_claim("Belarus reduced the number of troops on its border.", lexicon)
    (conflict,) = conflicts(lexicon, new, analyze_claim(KYIV_BORDER, lexicon))
    assert conflict.kind == "agent"  # reducing is the opposite of tightening: the same move, by another
    assert conflict.describe() == "tells what belarus does, the baseline claim what kyiv does"
    assert kinds("Belarus has strengthened its border with Ukraine.", KYIV_BORDER) == ["agent"]
    assert kinds("Poland deployed troops.", PRESSURE) == ["agent"]
    assert kinds("Russian troops have withdrawn from Belarus.", "Belarus has withdrawn its troops.") == ["agent"]


def test_the_same_agent_or_one_named_as_a_place_is_no_agent_conflict() -> None:
    assert kinds("Ukraine has strengthened its border with Belarus.", KYIV_BORDER) == []
    assert kinds("Lukashenko deployed troops to the border.", PRESSURE) == []  # Lukashenko is Belarus
    # "in Belarus" is where, not who: the troops deployed there have no agent named before the act.
    assert "agent" not in kinds("Troops in Belarus were deployed to the border.", PRESSURE)
