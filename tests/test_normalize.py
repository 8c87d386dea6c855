"""Normalisation: figures as values, dates in either order, name variants in any script."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.matching import analyze_claim, default_lexicon, normalize_text
from monitor.matching.figures import extract_figures
from monitor.matching.lexicon import PhraseSet
from monitor.matching.text import fold_text, stem


def figures(text: str) -> list[tuple[str, float | None, float | None]]:
    return [(f.kind, f.low, f.high) for f in extract_figures(fold_text(text))]


def terms(text: str) -> tuple[str, ...]:
    return analyze_claim(text, default_lexicon()).terms


def test_fold_text_plain_quotes_spaces_case_and_diacritics() -> None:
    assert fold_text("“Lukašenka’s”\u00a0Army\u2014now") == '"lukasenka\'s" army - now'
    assert fold_text("It doesn’t and can’t") == "it does not and can not"
    assert fold_text("S-400 and Tu-22M3") == "s400 and tu22m3"


def test_fold_keeps_cyrillic_letters_whose_marks_matter() -> None:
    assert fold_text("Київ") == "київ"
    assert fold_text("Лукашенко") == "лукашенко"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("twenty rockets hit the village", [("count", 20, 20)]),
        ("twenty-five rockets", [("count", 25, 25)]),
        ("about nine thousand soldiers", [("count", 9000, 9000)]),
        ("a thousand volunteers", [("count", 1000, 1000)]),
        ("10.5 thousand military personnel", [("count", 10500, 10500)]),
        ("9,000 troops", [("count", 9000, 9000)]),
        ("2 million people", [("count", 2_000_000, 2_000_000)]),
    ],
)
def test_numbers_in_digits_and_words_are_values(text: str, expected: list[tuple[str, float, float]]) -> None:
    assert figures(text) == expected


def test_ranges_in_all_spellings() -> None:
    assert figures("only around 12,000-15,000 troops") == [("count", 12000, 15000)]
    assert figures("between 100,000 and 150,000 volunteers") == [("count", 100000, 150000)]
    assert figures("12 to 15 thousand troops") == [("count", 12000, 15000)]


def test_bounds_and_vague_amounts() -> None:
    assert figures("more than a thousand Belarusians") == [("count", 1000, None)]
    assert figures("fewer than 500 soldiers") == [("count", None, 500)]
    kind, low, high = figures("dozens of Belarusian soldiers")[0]
    assert kind == "count" and low is not None and high is not None and low < 100 < high


def test_dates_in_both_orders_are_one_value() -> None:
    assert figures("on June 26") == figures("on 26 June") == figures("on 26th of June") == [("date", 626, 626)]
    assert figures("on Dec. 27, 2022") == [("date", 1227, 1227)]
    assert terms("came under fire on June 26") == terms("came under fire on 26 June")


def test_russian_and_ukrainian_month_names() -> None:
    assert figures("26 июня") == [("date", 626, 626)]
    assert figures("26 червня") == [("date", 626, 626)]


def test_may_is_a_month_only_where_it_reads_as_one() -> None:
    assert figures("In May, Lukashenko said") == [("month", 5, 5)]
    assert figures("Belarus may join the war") == []


def test_years_and_times_are_not_counts() -> None:
    assert figures("in 2023 the Kremlin may decide") == [("year", 2023, 2023)]
    assert [kind for kind, _, _ in figures("around 5 am on June 25")] == ["date"]


def test_approximate_figures_allow_a_little_either_way() -> None:
    (about,) = extract_figures(fold_text("about 10,000 troops"))
    (exact,) = extract_figures(fold_text("9,000 troops"))
    (close,) = extract_figures(fold_text("10,200 troops"))
    assert not about.compatible(exact)
    assert about.compatible(close)


def test_number_words_and_digits_normalise_alike() -> None:
    assert terms("twenty rockets targeted Desna") == terms("20 rockets targeted Desna")
    assert terms("nine thousand troops") == terms("9,000 troops")


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Kiev", "Kyiv"),
        ("Київ", "Kyiv"),
        ("Киев", "Kyiv"),
        ("Chernigiv", "Chernihiv"),
        ("Lukashenka", "Lukashenko"),
        ("Лукашенко", "Lukashenko"),
        ("the Belarusian leader", "Lukashenko"),
        ("Mazyr", "Mozyr"),
        ("Belorussia", "Belarus"),
        ("Беларусь", "Belarus"),
        ("Білорусь", "Belarus"),
    ],
)
def test_name_variants_map_to_one_term(variant: str, canonical: str) -> None:
    assert terms(f"{variant} said") == terms(f"{canonical} said")


def test_stopwords_and_inflections_do_not_count() -> None:
    assert normalize_text("The troops were deployed", default_lexicon()) == normalize_text(
        "troop deployment", default_lexicon()
    )


def test_user_lexicon_extends_the_bundled_one(tmp_path: Path) -> None:
    from monitor.matching import load_lexicon

    path = tmp_path / "extra.toml"
    path.write_text('[names]\nasipovichy = ["osipovichi", "асиповичи"]\n', encoding="utf-8")
    lexicon = load_lexicon(path)
    assert analyze_claim("Osipovichi camp", lexicon).terms == analyze_claim("Asipovichy camp", lexicon).terms
    assert analyze_claim("Kiev", lexicon).terms == analyze_claim("Kyiv", lexicon).terms


def test_a_broken_lexicon_file_is_a_clear_error(tmp_path: Path) -> None:
    from monitor.matching import LexiconError, load_lexicon

    path = tmp_path / "bad.toml"
    path.write_text("[names]\nkyiv = 3\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.toml.*kyiv"):
        load_lexicon(path)


def test_a_variant_that_stems_to_a_stopword_is_a_clear_error(tmp_path: Path) -> None:
    """ "Downed" stems to "down": every "down" would read as an interception. The file says how to write it."""
    from monitor.matching import LexiconError, load_lexicon

    path = tmp_path / "mine.toml"
    path.write_text('[synonyms]\nintercept = ["downed"]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"mine\.toml: 'downed' \(for 'intercept'\) stems to 'down'.*'downed\*'"):
        load_lexicon(path)
    path.write_text('[synonyms]\nintercept = ["downed*"]\n', encoding="utf-8")
    assert load_lexicon(path) is not None


def test_a_count_also_says_what_it_counts_whatever_the_number() -> None:
    assert "#troop" in terms("Russia keeps only 9,000 troops in Belarus.")
    assert "#troop" in terms("The build-up has reached 10.5 thousand military personnel.")
    assert "#missil" in terms("On 26 June twenty rockets hit Desna.")  # "rockets" is in the missile group
    assert not any(term.startswith("#") for term in terms("A thousand Belarusians have applied to join."))


def test_reference_marks_are_no_figures() -> None:
    assert figures("more than a thousand Belarusians have applied to join the unit.[14]") == [("count", 1000, None)]
    assert "14" not in terms("They joined the unit.[14]")


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "Ukraine takes its northern border seriously, even though there are no signs of an attack from Belarus.",
            ["Ukraine takes its northern border seriously", "even though there are no signs of an attack from Belarus"],
        ),
        (
            "Although Belarus has not joined the war directly, it did allow Russian troops to use its territory.",
            ["Although Belarus has not joined the war directly", "it did allow Russian troops to use its territory"],
        ),
        (
            "With only 9,000 troops in Belarus, Russia can seize some villages in the north.",
            ["With only 9,000 troops in Belarus", "Russia can seize some villages in the north"],
        ),
        (
            "Putin flew to Minsk for talks – the first visit in three years.",
            ["Putin flew to Minsk for talks", "the first visit in three years"],
        ),
        (
            "Belarus bought missiles, tanks, and jets from Russia.",
            ["Belarus bought missiles, tanks, and jets from Russia"],
        ),
        ("Lukashenko visited Moscow.", ["Lukashenko visited Moscow"]),
    ],
)
def test_compound_sentences_split_into_clauses(text: str, clauses: list[str]) -> None:
    from monitor.matching.clauses import split_clauses

    found = split_clauses(text)
    assert [clause.text for clause in found] == clauses
    assert all(text[clause.start : clause.end] == clause.text for clause in found)


def test_irregular_past_forms_stem_as_their_verb() -> None:
    """Putin "flew" to Minsk and "did not fly" there: one trip spoken of."""
    assert stem("flew") == stem("fly") and stem("began") == stem("begin") and stem("held") == stem("hold")
    assert stem("left") == "left"  # a direction and a side in politics as often as the verb
    assert stem("fell") == stem("fall") and stem("shrank") == stem("shrunk") == stem("shrink")
    assert stem("lost") == stem("lose")


def test_every_word_up_is_the_opposite_of_every_word_down() -> None:
    antonyms = default_lexicon().antonyms
    ups, downs = ["increase", "rise", "grow", "expand"], ["decrease", "reduce", "fall", "shrink"]
    for up in ups:
        assert {terms(down)[0] for down in downs} <= antonyms[terms(up)[0]]


def test_a_direction_is_not_the_word_directly() -> None:
    """ "In the direction of Kyiv" places an assault; it shares nothing with "involved directly"."""
    assert not set(terms("The assault may start in the direction of Kyiv.")) & set(terms("It is directly involved."))


def test_a_phrase_set_finds_phrases_longest_first_and_prefixes_where_no_phrase_starts() -> None:
    phrases = PhraseSet.build([("take part", "involv"), ("take", "take"), ("беларус*", "belarus"), ("во*", "x")])
    stems = ["they", "take", "part", "беларуси", "take", "бел", "во", "войско"]
    assert list(phrases.find(stems, stems)) == [(1, 3, "involv"), (3, 4, "belarus"), (4, 5, "take")]


def test_a_building_is_no_construction_and_a_build_up_is_an_increase() -> None:
    """ "Residential buildings" name no event; "Belarus built" does; a build-up of troops is an increase."""
    assert "construct" not in terms("They blew up residential buildings in Mozyr.")
    assert terms("Belarus built a plant and is building a base.").count("construct") == 2
    assert terms("Russia continues the build-up of troops.") == terms("Russia continues the increase of troops.")


def test_troops_pulled_out_or_back_are_withdrawn() -> None:
    withdrawn = terms("Russia has withdrawn its troops.")[1]
    for text in ("Russia has pulled its troops out.", "Russia pulled back its troops.", "Russia is pulling out."):
        assert withdrawn in terms(text), text


def test_cyrillic_airstrikes_territory_and_number_share_the_english_terms() -> None:
    english = set(terms("Russia increased the number of airstrikes from Belarusian territory."))
    for text in (
        "Россия сократила количество авиаударов по Украине с территории Беларуси.",
        "Расія павялічыла колькасць авіяўдараў па Украіне з тэрыторыі Беларусі.",
        "Росія збільшила кількість авіаударів з території Білорусі.",
    ):
        assert {"number", "airstrik", "territori"} & set(terms(text)) == {"number", "airstrik", "territori"} & english
        assert len({"number", "airstrik", "territori"} & english) == 3, english


def test_troops_leaving_are_withdrawn_in_cyrillic_too() -> None:
    withdrawn = terms("Russia has withdrawn its troops.")[1]
    assert withdrawn in terms("Российские войска покинули Чернобыльскую АЭС.")
    assert withdrawn in terms("Расійскія войскі пакінулі Чарнобыльскую АЭС.")


def test_drawing_the_line_is_one_term_not_a_drawing() -> None:
    """ "Has drawn the line around direct intervention" draws nothing: the idiom is one term, so it shares
    no "draw" with "the Kremlin's attempt to draw Belarus into the war"."""
    terms = analyze_claim("But it has drawn the line around direct intervention.", default_lexicon()).terms
    assert "draw the line" in terms
    assert stem("draw") not in terms and stem("line") not in terms


def test_a_dated_month_or_day_keeps_its_year() -> None:
    """ "Late January 2023" shares its year with "in 2023": the date reads the month, the claim's words the
    year too."""
    lexicon = default_lexicon()
    assert {"m01", "y2023"} <= set(analyze_claim("an offensive as soon as late January 2023", lexicon).terms)
    assert {"d0228", "y2022"} <= set(analyze_claim("On 28 February 2022 troops crossed", lexicon).terms)
    assert "y2023" in analyze_claim("it is not improbable that in 2023 the Kremlin may decide", lexicon).terms


def test_a_negation_stops_at_until_and_unless() -> None:
    """ "We are not going to go anywhere until Ukraine crosses the red line" denies the going, not the
    crossing: "until" and "unless" open a clause of their own, as "because" does."""
    from monitor.matching.verdict import polarity

    lexicon = default_lexicon()
    for text in (
        "We are not going to go anywhere until Ukraine crosses the red line.",
        "Belarus will not respond unless Ukraine crosses the border.",
    ):
        analysis = analyze_claim(text, lexicon)
        assert not polarity(lexicon, analysis, frozenset({stem("crosses")})).negative, text
    denial = analyze_claim("Ukraine has not crossed the border.", lexicon)
    assert polarity(lexicon, denial, frozenset({stem("crossed")})).negative


def test_a_count_after_a_counting_verb_counts_its_subject() -> None:
    """ "Russian troops in Belarus now number about 30,000" counts troops, as "about 30,000 troops" does:
    it updates "9,000 troops in Belarus" rather than naming a bare number."""
    lexicon = default_lexicon()
    assert "#troop" in terms("Russian troops in Belarus now number about 30,000.")
    assert "#troop" in terms("The number of Russian troops in Belarus stood at 20,000 in May.")
    assert "#troop" in terms("Officials said Russian troops total 12,000.")
    # No counting verb before it: the count still counts what follows it, or nothing.
    assert [t for t in analyze_claim("In 2022 Belarus had 45,000.", lexicon).terms if t.startswith("#")] == []
