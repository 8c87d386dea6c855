"""The baseline corpus loader: seed claims, boilerplate stripping, article reading and its errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from baseline.loader import (
    DEFAULT_CORPUS_DIR,
    ArticleText,
    BaselineFileError,
    CorpusArticle,
    load_corpus,
    read_article,
    strip_boilerplate,
)
from monitor.text.claims import extract_claims
from monitor.text.sentences import normalize_whitespace

SEED_000 = "000_80721e8e27b88b1f"
SEED_001 = "001_46b2ead50df9fc90"
SEED_003 = "003_49f5cb69a8b6e12f"

# Every sentence of each seed's article body, in order, as it must come out as a claim (U+00A0 in seed 003
# normalised to a space). Left out on purpose: the questions, listed in QUESTIONS below.
EXPECTED_CLAIMS: dict[str, tuple[str, ...]] = {
    "003_49f5cb69a8b6e12f": (
        "Belarus is actively participating in Russia’s invasion of Ukraine.",
        (
            "The Eastern European country has allowed Moscow to use Belarusian territory for attacks on "
            "Kyiv, and according to latest reports Belarusian troops have reportedly entered Ukraine "
            "and joined Russian military operations there."
        ),
        (
            "The Kremlin has undoubtedly pressured Belarusian President Alexander Lukashenko to deploy "
            "troops in the conflict."
        ),
        (
            "Given the Russian Army is suffering significant losses on the ground, deployment of "
            "additional troops, be it from Russia or Belarus, was a matter of time."
        ),
        (
            "The problem for the Russian military leadership is there is no guarantee Belarusian troops "
            "will fight as fiercely as the Russians."
        ),
        (
            "According to some reports, dozens of Belarusian soldiers have already joined the Ukrainian "
            "Army, and volunteers from Belarus are reportedly also helping the Ukrainian Armed Forces."
        ),
        ("Thus, it is entirely possible that some Belarusian units will simply surrender to the Ukrainians."),
        (
            "Quite aware that Belarusian society strongly opposes any participation of the former "
            "Soviet republic in the Kremlin’s war on Ukraine, Lukashenko is still trying to portray "
            "Belarus as a neutral country, and himself as a mediator in this conflict."
        ),
        (
            "The very fact that the first round of talks between Russian and Ukrainian officials took "
            "place in Belarus on February 28 suggests that Kyiv had to turn a blind eye to Lukashenko’s "
            "activities."
        ),
        (
            "It is worth noting, however, that Russia agreed to hold talks, even though Russian "
            "President Vladimir Putin previously called Ukrainian officials terrorists, drug-addicts "
            "and Nazis."
        ),
        ("But, that does not necessarily mean that a potential Minks-3 agreement will be signed any time soon."),
        (
            "The two sides have agreed to continue holding talks, and the next round of negotiations "
            "will be held at the Polish-Belarusian border."
        ),
        (
            "“The process that had begun would have been finished a long time ago had it been not for "
            "the interference of external players. And possibly no further actions would have been "
            "required”, said Belarusian Foreign Minster Vladimir Makei."
        ),
        "The Kremlin sees Ukraine as an instrument the United States is using against Russia.",
        ("Still, Moscow agreed to hold talks with Ukrainian officials, although Putin demands their capitulation."),
        (
            "It remains unclear why Russia refused to hold direct talks with Ukraine before the war, "
            "and why Putin and the US President Joe Biden have not spoken since the Kremlin launched "
            "invasion of the Eastern European country."
        ),
        (
            "To this day, US airspace remains open to Russian aircraft and vice versa, while all "
            "European Union countries have banned Russian air companies from using their airspace."
        ),
        (
            "The US Embassy in Moscow has urged American citizens to leave Russia immediately, and has "
            "shuttered its embassy in Minsk."
        ),
        "Russia is expected to continue using Belarusian territory for attacks on Ukraine.",
        "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus.",
        (
            "According to the Ukrainian Armed Forces, Russia launched six missile strikes and four air "
            "strikes on February 27, and most of them came from Belarusian territory."
        ),
        (
            "On February 25 Russian troops seized control of the Chernobyl nuclear power plant, which "
            "means they have entered Ukrainian territory from Belarus."
        ),
        (
            "Russian forces continue to attack Kyiv from the north, which suggests that they still use "
            "Belarusian territory for incursions into Ukraine, and such a practice is unlikely to stop "
            "any time soon."
        ),
        (
            "Lukashenko, however, promised to Ukrainian President Volodymyr Zelensky that Belarus will "
            "not deploy its troops to the neighboring country."
        ),
        (
            "Given Belarus’ economic dependence on Russia, and presence of thousands of Russian troops "
            "on the Belarusian soil, Belarusian President unlikely had much choice but to break the "
            "promise he made to the Ukrainian leader."
        ),
        (
            "Recently, Lukashenko openly told the Kremlin to sort out its own media, since in the "
            "Russian media space an anti-war narrative is still relatively strong."
        ),
        "Indeed, before launching the invasion, the Kremlin did not prepare the ground at home.",
        "Thus, Russia is losing media war, both abroad and within Russia.",
        (
            "Even with Belarusian help, it is not very probable that Russia can defeat the Ukrainian "
            "Army, especially if it soon gets jets and other equipment from the European countries."
        ),
        "If Russia gets defeated in Ukraine, it will also be a defeat for Alexander Lukashenko.",
        (
            "He linked his fate with that of Putin, and if eventually a palace coup takes place in the "
            "Kremlin, is is unlikely the Belarusian leader will politically survive."
        ),
    ),
    "000_80721e8e27b88b1f": (
        ("Kyiv fears that Belarus could soon join Russia and invade certain parts of Western Ukraine."),
        (
            "The Belarusian Armed Forces have recently begun holding military drills near the Ukrainian "
            "border, while Moscow continues supplying weapons to its only ally in Europe."
        ),
        (
            "In May, Belarusian President Alexander Lukashenko said that his country had bought "
            "Iskander nuclear-capable missiles, as well as S-400 anti-aircraft anti-missile systems "
            "from Russia."
        ),
        (
            "In the coming months, according to Russian President Vladimir Putin, Moscow will transfer "
            "to Belarus Iskander-M tactical missile systems which can use ballistic or cruise missiles "
            "in their conventional and nuclear versions."
        ),
        ("In other words, both Russia and Belarus are preparing for a potential escalation of the Ukraine conflict."),
        "Kyiv, for its part, claims Ukraine came under “massive bombardment” on June 26.",
        (
            "According to Ukrainian military, twenty rockets targeted the village of Desna in the "
            "northern Chernigiv region, which borders Belarus."
        ),
        ("It remains unclear, however, if it was Russian or Belarusian army that conducted the strikes."),
        (
            "Ukrainian intelligence officials also said that the attacks were “directly related to the "
            "Kremlin’s attempt to draw Belarus into the war in Ukraine as a direct participant”."
        ),
        (
            "According to some Ukrainian reports, Russian forces are increasing their presence in "
            "Belarus, namely, military aviation."
        ),
        (
            "Indeed, reports suggest that Russia significantly increased the number of airstrikes on "
            "Ukraine from Belarusian territory, although there is no evidence that the Kremlin aims to "
            "deploy troops to the former Soviet republic in the near future."
        ),
        (
            "The problem for Moscow is that Belarusian soldiers have no combat experience and are not "
            "motivated to fight, which means that they will unlikely launch an attack on Ukraine on "
            "their own."
        ),
        ("In addition, the Belarusian army does not have enough troops to fight a war against its southern neighbor."),
        (
            "Some experts believe that Minsk has only around 12,000-15,000 troops that could take part "
            "in a possible invasion, which is far from enough for any serious large-scale operations."
        ),
        (
            "Moreover, the Belarusian army consists of conscripts, and it is entirely possible that "
            "many of them would surrender to Ukrainian forces in case they are forced to cross the "
            "border and fight."
        ),
        "Still, Ukrainian authorities remains vigilant.",
        (
            "It is worth remembering that on February 24 Russia did not have enough troops to seize "
            "Ukraine, but it still launched a full-scale invasion."
        ),
        (
            "Thus, if pressured by the Kremlin, Lukashenko could eventually join Moscow’s “special "
            "military operation”, even though the price Minsk would have to pay would be very high."
        ),
        "There are indications that Minsk has already started preparations for such an adventure.",
        (
            "The Belarusian army recently started conducting mobilization exercises along the Ukrainian "
            "border, while some opposition media claim that a new batch of Russian rocket launchers for "
            "the S-300 air defense system has arrived in Belarus."
        ),
        (
            "The primary goal of military drills is to pin down Ukrainian units on the northern border "
            "instead of redeploying them to the Donbass or to southern parts of Ukraine."
        ),
        (
            "But wars are usually unpredictable, and there is no guarantee that Belarusian forces will "
            "not eventually cross the border and try to occupy certain parts of Western Ukraine."
        ),
        (
            "That is why Ukraine’s lawmakers have proposed to establish mine fields on the country’s "
            "borders with Belarus and Russia, which means that Kyiv takes a potential threat from its "
            "northern neighbor very seriously."
        ),
        (
            "There are also fears in Kyiv that the Kremlin could stage a false flag operation and blow "
            "up residential buildings in the Belarusian city of Mozyr, which Lukashenko could use as a "
            "formal pretext to join Russia in its war against Ukraine."
        ),
        (
            "“Russia’s military intelligence agency (GRU) is planning to conduct a series of artillery "
            "and missile strikes on the Mozyr Oil Refinery, as well as civilian infrastructure and "
            "residential buildings. The attacks will be accompanied by explosions in residential "
            "buildings, hospitals and schools”, Ukrainian intelligence said"
        ),
        ("Lukashenko, on the other hand, stressed on June 17 that it is Ukraine that allegedly plans to strike Mozyr."),
        (
            "“We are not going to go anywhere until Ukraine crosses the red line. Once it crosses our "
            "border or targets Mozyr Oil Refinery, we will respond immediately. They will understand "
            "that if they hit Mozyr, then we will hit Kyiv without going inside Ukraine”, Belarusian "
            "leader stressed."
        ),
        (
            "In order to prevent such actions, Belarus has reportedly started forming people’s "
            "militias, which could be described as a reserve force of the country’s territorial defense "
            "forces."
        ),
        (
            "More importantly, at the end of May Lukashenko announced the creation of a southern "
            "operational command, pointing out that what is happening in Belarus is a wartime "
            "condition, but without war for now."
        ),
        (
            "Given the war in Ukraine will unlikely end anytime soon, chances for Belarus to get "
            "directly involved in the Kremlin’s “special military operation” will continue to grow."
        ),
    ),
    "001_46b2ead50df9fc90": (
        ("Concerns are rising in Ukraine that Russia could use Belarusian territory to reinvade the war-torn country."),
        (
            "Although Russian and Belarusian troops are still not ready for any major offensives, it is "
            "not improbable that in 2023 the Kremlin may decide to launch another suicide mission in an "
            "attempt to capture certain portions of northern Ukraine."
        ),
        "Kyiv has already started tightening up the defense of Ukraine’s border with Belarus.",
        (
            "Such a move could be interpreted as Ukraine’s response to joint military exercises that "
            "Russian and Belarusian troops have been conducting for months."
        ),
        (
            "Indeed, Ukraine seems to be taking the situation on its northern borders seriously, even "
            "though there are no indications that Russia is preparing to attack its territory from "
            "Belarus."
        ),
        (
            "Rumors are flying, however, that Russian President Vladimir Putin is trying to pressure "
            "the leader of Belarus Alexander Lukashenko into joining a possible new ground offensive in "
            "Ukraine."
        ),
        (
            "On December 19 Putin flew to Minsk for talks with his Belarusian counterpart – the first "
            "time in three-and-a-half years the pair have met in Belarus."
        ),
        (
            "It remains unclear if the two leaders discussed Moscow’s alleged ambitioun to reinvade "
            "Ukraine from southern Belarus, although Lukashenko’s statements suggest that such a topic "
            "might have been on the agenda."
        ),
        (
            "“Taking into account the situation evolving along the border perimeter, we discussed some "
            "important details of cooperation in the sphere of military security”, Belarusian President "
            "stressed, pointing out that Russia and Belarus are “greatly concerned about tensions along "
            "the border perimeter of the Union State, primarily in the west.”"
        ),
        (
            "Since Minsk claims that “paramilitary units are being trained in Poland and Lithuania in "
            "order to destabilize the situation in Belarus”, it is entirely possible that Russia has "
            "deployed troops and some weapons to Belarus, not to invade Ukraine, but in an attempt to "
            "prevent a potential uprising against Lukashenko."
        ),
        (
            "Given the Ukraine war has shown the Kremlin does not hesitate to use the Russian troops as "
            "cannon fodder, it is not improbable that Moscow will eventually attack northwestern "
            "Ukraine, allegedly aiming to cut off its supply lines – a move that, from the military "
            "perspective, would have made sense back in February."
        ),
        "Belarus, for its part, is unlikely to join Putin’s military adventures.",
        (
            "Although the former Soviet republic has not become involved in the war directly, it did "
            "allow Russian troops to use its territory to launch the invasion in February."
        ),
        (
            "Lukashenko, unlike Putin, does not seem to be ready to sacrifice his own troops and deploy "
            "them to Ukraine to die in vain."
        ),
        (
            "Despite alleged leverage the Russian leader has over the Belarusian President, to this day "
            "the two allied countries have not formed a joint military command, nor did Belarus deepen "
            "its integrations into the Russia Union State."
        ),
        (
            "Lukashenko seems to have preserved a significant level of autonomy when it comes to his "
            "relations with the Kremlin, which suggests that Moscow cannot easily force him to directly "
            "participate in the Ukraine war."
        ),
        "Everything about Putin is a PR stunt.",
        (
            "If he really planned to reinvade Ukraine from Belarus, he would have invited Lukashenko to "
            "Moscow, Sochi, or elsewhere in Russia."
        ),
        (
            "His visit to Minsk was most likely a message to the Russian audience that Russia is not on "
            "its own, and that it can always count on Belarus’ support."
        ),
        (
            "The fact that prior to Putin’s trip to Belarus, Russian Defense Minister Sergey Shoigu "
            "also visited Minsk where he met not only with his Belarusian counterpart Viktor Khrenin, "
            "but also with Lukashenko, indicates the two countries plan to increase their military "
            "cooperation."
        ),
        (
            "The Russian and Belarusian armies continue holding joint battalion-level drills in "
            "Belarus, and Russia has reportedly provided its ally with the S-400 air defense systems "
            "and Iskander missiles."
        ),
        (
            "Although Moscow and Minsk seem to be preparing for an escalation of the Ukraine conflict, "
            "that does not necessarily mean that Belarusian troops will get directly involved in "
            "Putin’s so-called special military operation."
        ),
        (
            "With only 9,000 troops in Belarus, Russia can seize some villages in northern Ukraine – "
            "and suffer huge losses – but nothing more than that."
        ),
        "At this point, neither Russia nor Belarus have capacity for any large-scale offensives.",
        (
            "Thus, their military maneuvers could also be part of Moscow’s strategy to tie up Ukrainian "
            "forces near the border to prevent their deployment to the Donbass or to the south."
        ),
        (
            "Finally, given that events have clearly accelerated over the last few weeks, an escalation "
            "of the Ukraine war in 2023 – with Belarus’ indirect involvement – should not be ruled out."
        ),
    ),
}

# Page furniture, captions, related-article lists, bylines and reader comments: in no claim and not in the
# cleaned body.
BOILERPLATE: dict[str, tuple[str, ...]] = {
    SEED_003: (
        "Will Belarus Deploy Troops To Ukraine?",
        "Lukashenko’s mustache",
        "Image by",
        "Информационное агентство БелТА",
        "Please Follow us",
        "GETTR",
        "You Won’t Get Anywhere Else",
        "Donate",
        "Related articles",
        "An Imminent And Uncontrollable Explosion",
        "Hassan Mahmoudi",
        "Meteoric Fall From World Culture",
        "Baruch Pletner",
        "Enemy At The Gates",
        "Nikola Mikovic",
        "SCUM",
        "Steven",
        "March 5, 2022 at 2:34 am",
        "Nuclear Deal with Iran",
        "hat in hand",
        "Russia is in no hurry",
        "coal, gas, oil and nuclear development",
        "Sea of Japan",
        "not to defend Taiwan",
        "Democratic Party victories",
        "Appeasement wins votes",
        "Leave a Comment",
        "Subscribe to our evening newsletter",
    ),
    SEED_000: (
        "Tsarizm",
        "Will Belarus Join Forces With Russia In Ukraine?",
        "Please Follow us",
        "Gab TV",
        "NO AD",
        "subscription for CDM",
        "Sign up here",
        "investigative journalism",
        "Related articles",
        "The Russian Way of Warfare, A Primer",
        "Kremlin Warns US Embassy",
        "LGBTQ Rainbow Flag",
        "Transgenderism",
        "Wokism",
        "Leave a Comment",
        "Subscribe to our evening newsletter",
    ),
    SEED_001: (
        "Will Belarus Really Join Russia’s War In Ukraine In 2023?",
        "Состоялся двухдневный визит Владимира Путина в Белоруссию",
        "Image by",
        "Presidential Press and Information Office",
        "Please Follow us",
        "Truth Social",
        "NO AD",
        "Sign up here",
        "Related articles",
        "Avowed Marxist",
        "L Todd Wood",
        "Tactical Human Intelligence Collection",
        "S. R. Mogck",
        "Kazakhstan Coup Attempt",
        "George Elliason",
        "1 comment",
        "Htos1av",
        "December 22, 2022 at 9:19 am",
        "I hope the world understands",
        "hanging",
        "Leave a Comment",
        "Subscribe to our evening newsletter",
    ),
}

# Questions of the article body: kept in the body, never a claim.
QUESTIONS: dict[str, tuple[str, ...]] = {
    SEED_003: ("Does that mean that the war will soon spill over to The Union State?",),
    SEED_000: (),
    SEED_001: ("But why did Putin travel to Minsk then?", "But can it really?"),
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, CorpusArticle]:
    return {article.key: article for article in load_corpus()}


# --- the bundled corpus -----------------------------------------------------------------------------------


def test_corpus_lists_the_three_seeds_with_their_metadata(corpus: dict[str, CorpusArticle]) -> None:
    assert list(corpus) == [SEED_003, SEED_000, SEED_001]
    assert {key: article.published for key, article in corpus.items()} == {
        SEED_003: date(2022, 3, 1),
        SEED_000: date(2022, 6, 30),
        SEED_001: date(2022, 12, 21),
    }
    assert corpus[SEED_000].title == "Will Belarus Join Forces With Russia In Ukraine?"
    assert corpus[SEED_000].section == "Tsarizm / Eastern Europe"
    for article in corpus.values():
        assert article.outlet == "CDMedia"
        assert article.url is None
        assert article.source_path == DEFAULT_CORPUS_DIR / f"{article.key}.txt"


@pytest.mark.parametrize("key", [SEED_003, SEED_000, SEED_001])
def test_every_body_sentence_is_a_claim_in_order(corpus: dict[str, CorpusArticle], key: str) -> None:
    assert corpus[key].claims == EXPECTED_CLAIMS[key]


@pytest.mark.parametrize("key", [SEED_003, SEED_000, SEED_001])
def test_no_boilerplate_reaches_the_body_or_a_claim(corpus: dict[str, CorpusArticle], key: str) -> None:
    article = corpus[key]
    for fragment in BOILERPLATE[key]:
        assert fragment not in article.body, fragment
        assert not [claim for claim in article.claims if fragment in claim], fragment


@pytest.mark.parametrize("key", [SEED_003, SEED_000, SEED_001])
def test_questions_stay_in_the_body_but_are_not_claims(corpus: dict[str, CorpusArticle], key: str) -> None:
    article = corpus[key]
    for question in QUESTIONS[key]:
        assert question in article.body
        assert question not in article.claims


def test_the_tricky_sentences_are_whole_claims(corpus: dict[str, CorpusArticle]) -> None:
    claims = [claim for article in corpus.values() for claim in article.claims]
    mozyr = next(claim for claim in claims if claim.startswith("“We are not going to go anywhere"))
    assert mozyr.endswith("without going inside Ukraine”, Belarusian leader stressed.")
    gru = next(claim for claim in claims if claim.startswith("“Russia’s military intelligence agency (GRU)"))
    assert gru.endswith("hospitals and schools”, Ukrainian intelligence said")
    makei = next(claim for claim in claims if claim.startswith("“The process that had begun"))
    assert makei.endswith("”, said Belarusian Foreign Minster Vladimir Makei.")
    assert any("12,000-15,000 troops" in claim for claim in claims)
    assert any(claim.startswith("With only 9,000 troops in Belarus") for claim in claims)
    assert any("Minks-3 agreement" in claim for claim in claims)
    # No fragment of an attribution was split off on its own.
    assert not [claim for claim in claims if claim.startswith(("”", ",", "Belarusian leader stressed"))]


def test_seed_003_no_break_spaces_are_normalised(corpus: dict[str, CorpusArticle]) -> None:
    raw = (DEFAULT_CORPUS_DIR / f"{SEED_003}.txt").read_text(encoding="utf-8")
    assert "\u00a0" in raw
    article = corpus[SEED_003]
    assert "\u00a0" not in article.body
    assert all("\u00a0" not in claim for claim in article.claims)
    assert "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus." in article.claims


def test_body_is_paragraphs_separated_by_blank_lines(corpus: dict[str, CorpusArticle]) -> None:
    body = corpus[SEED_000].body
    paragraphs = body.split("\n\n")
    assert len(paragraphs) == 14
    assert all(paragraph and "\n" not in paragraph for paragraph in paragraphs)
    assert paragraphs[0].startswith("Kyiv fears that Belarus could soon join Russia")
    assert paragraphs[-1].startswith("Given the war in Ukraine will unlikely end anytime soon")


def test_claims_are_the_claims_of_the_body(corpus: dict[str, CorpusArticle]) -> None:
    for article in corpus.values():
        assert article.claims == tuple(extract_claims(article.body))


def test_loading_twice_gives_identical_claims() -> None:
    assert load_corpus() == load_corpus()


def test_seed_files_are_verbatim_copies(shared_dir: Path) -> None:
    for key in (SEED_000, SEED_001, SEED_003):
        seed = shared_dir / "seeds" / f"{key}.txt"
        if not seed.exists():
            pytest.skip(f"{seed} is not available")
        assert (DEFAULT_CORPUS_DIR / f"{key}.txt").read_bytes() == seed.read_bytes()


# --- load_corpus errors -----------------------------------------------------------------------------------

ARTICLE_TEXT = (
    "Minsk Weekly\n\nBelarus Moves Troops\n\n"
    "Belarus moved two brigades to the Ukrainian border on Monday, the defence ministry said.\n\n"
    "Related articles\n\nOther Story Here\n\nJane Doe\n"
)


def write_corpus(directory: Path, index: str, files: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.toml").write_text(index, encoding="utf-8")
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


def entry(file: str = "a.txt", **fields: str) -> str:
    values = {"file": file, "title": "Belarus Moves Troops", "outlet": "Minsk Weekly", **fields}
    lines = [f"{name} = {value}" if name == "published" else f'{name} = "{value}"' for name, value in values.items()]
    return "[[article]]\n" + "\n".join(lines) + "\n"


def test_a_corpus_of_one_article(tmp_path: Path) -> None:
    directory = write_corpus(
        tmp_path / "corpus",
        entry(published="2023-01-09", url="https://example.org/a"),
        {"a.txt": ARTICLE_TEXT.encode()},
    )
    [article] = load_corpus(directory)
    assert article == CorpusArticle(
        key="a",
        title="Belarus Moves Troops",
        outlet="Minsk Weekly",
        published=date(2023, 1, 9),
        url="https://example.org/a",
        body="Belarus moved two brigades to the Ukrainian border on Monday, the defence ministry said.",
        claims=("Belarus moved two brigades to the Ukrainian border on Monday, the defence ministry said.",),
        source_path=directory / "a.txt",
    )


def test_published_may_be_a_quoted_date_or_left_out(tmp_path: Path) -> None:
    index = entry("a.txt", published='"2023-01-09"') + entry("b.txt")
    directory = write_corpus(tmp_path, index, {"a.txt": ARTICLE_TEXT.encode(), "b.txt": ARTICLE_TEXT.encode()})
    assert [article.published for article in load_corpus(directory)] == [date(2023, 1, 9), None]


@pytest.mark.parametrize(
    ("index", "files", "message"),
    [
        (entry(), {"a.txt": b""}, "a.txt: the file is empty"),
        (entry(), {"a.txt": b"  \n\t\n"}, "a.txt: the file is empty"),
        (entry(), {"a.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, "a.txt: binary content"),
        (entry(), {"a.txt": b"Belarus\x00\x01\x02 moved troops."}, "a.txt: binary content"),
        (entry(), {}, "(article 1): the file 'a.txt' does not exist"),
        ('[[article]]\nfile = "a.txt"\noutlet = "X"\n', {"a.txt": ARTICLE_TEXT.encode()}, "missing or empty 'title'"),
        (entry(outlet=""), {"a.txt": ARTICLE_TEXT.encode()}, "missing or empty 'outlet'"),
        (entry(published='"2023-13-45"'), {"a.txt": ARTICLE_TEXT.encode()}, "bad 'published' date"),
        (entry(published='"last week"'), {"a.txt": ARTICLE_TEXT.encode()}, "bad 'published' date"),
        (entry(), {"a.txt": b"Related articles\n\nSome Title\n\nLeave a Comment\n"}, "a.txt: no checkable claims"),
        ("[[article]\nfile = ", {}, "not a valid TOML file"),
        (entry() + entry(), {"a.txt": ARTICLE_TEXT.encode()}, "'a' is listed twice"),
    ],
)
def test_bad_corpus_entries_name_the_file_and_the_reason(
    tmp_path: Path, index: str, files: dict[str, bytes], message: str
) -> None:
    directory = write_corpus(tmp_path, index, files)
    with pytest.raises(BaselineFileError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        load_corpus(directory)
    assert "\n" not in str(error.value)
    assert str(directory) in str(error.value)


def test_a_missing_index_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BaselineFileError, match="the corpus index is missing"):
        load_corpus(tmp_path)


# --- strip_boilerplate ------------------------------------------------------------------------------------


def test_strip_boilerplate_removes_page_furniture_and_keeps_the_article() -> None:
    raw = "\n".join(
        [
            "World",
            "Europe",
            "",
            "Belarus Moves Troops To The Border",
            "",
            "Lukashenko at a parade in Minsk",
            "Photo: BelTA",
            "",
            "Share this article on Facebook, Twitter, Telegram",
            "",
            "Belarus moved two brigades to the Ukrainian border on Monday.\u00a0The defence ministry",
            "called it a routine rotation.",
            "",
            "Belarus Moves Troops To The Border",
            "",
            "Support independent journalism: subscribe to our newsletter!",
            "",
            "Kyiv said it would strengthen its northern defences.",
            "",
            "Read also:",
            "",
            "Russia Sends Iskanders To Belarus",
            "John Smith",
            "",
            "3 comments",
            "",
            "Ivan March 3, 2023 at 10:15 am",
            "Lukashenko will never send troops to Ukraine, believe me.",
            "",
            "Leave a Reply",
        ]
    )
    assert strip_boilerplate(raw, title="Belarus Moves Troops To The Border") == (
        "Belarus moved two brigades to the Ukrainian border on Monday. The defence ministry "
        "called it a routine rotation.\n\n"
        "Kyiv said it would strengthen its northern defences."
    )


def test_a_related_list_in_the_middle_ends_where_prose_resumes() -> None:
    raw = (
        "Belarus held drills near the border on Tuesday.\n\n"
        "Related articles\n\nRussia Sends Iskanders To Belarus\n\nJohn Smith\n\n"
        "The drills will last until the end of the month, the ministry said.\n"
    )
    assert strip_boilerplate(raw) == (
        "Belarus held drills near the border on Tuesday.\n\n"
        "The drills will last until the end of the month, the ministry said."
    )


def test_a_comment_link_above_the_article_does_not_cut_it() -> None:
    raw = "Leave a comment\n\nBelarus held drills near the border on Tuesday.\n\nThe drills ended on Friday.\n"
    assert strip_boilerplate(raw) == "Belarus held drills near the border on Tuesday.\n\nThe drills ended on Friday."


def test_a_caption_separated_by_a_blank_line_from_prose_stays() -> None:
    raw = (
        "Belarus held drills near the border on Tuesday, the ministry said.\n\n"
        "Image by Ministry of Defence\n\nThe drills ended on Friday.\n"
    )
    assert strip_boilerplate(raw) == (
        "Belarus held drills near the border on Tuesday, the ministry said.\n\nThe drills ended on Friday."
    )


def test_captions_in_one_paragraph_a_line_text() -> None:
    # Extractor output: no blank lines, so only a line that does not end like a sentence is a caption.
    raw = (
        "Belarus held drills near the border on Tuesday, the ministry said.\n"
        "Photo: Reuters\n"
        "Troops of the 38th brigade near Brest\n"
        "Image by Ministry of Defence\n"
        "The drills ended on Friday.\n"
    )
    assert strip_boilerplate(raw) == (
        "Belarus held drills near the border on Tuesday, the ministry said.\n\nThe drills ended on Friday."
    )


def test_a_sentence_caption_glued_to_its_credit_is_dropped() -> None:
    raw = (
        "Belarus held drills near the border on Tuesday, the ministry said.\n\n"
        "Lukashenko watches the drills near Brest on Tuesday.\nPhoto: BelTA\n\n"
        "The drills ended on Friday.\n"
    )
    assert strip_boilerplate(raw) == (
        "Belarus held drills near the border on Tuesday, the ministry said.\n\nThe drills ended on Friday."
    )


def test_cyrillic_boilerplate_is_stripped() -> None:
    raw = (
        "Политика\n\nЛукашенко встретился с Путиным\n\n"
        "Состоялся двухдневный визит Владимира Путина в Белоруссию\nФото: БелТА\n\n"
        "Подпишитесь на наш телеграм-канал!\n\n"
        "Президент России Владимир Путин прилетел в Минск 19 декабря. Стороны обсудили военное сотрудничество.\n\n"
        "Читайте также\n\nЛукашенко ответил Западу\n\n"
        "5 комментариев\n\nИван 20 декабря 2022 в 14:34\n\nПутин никогда не нападёт, это все знают.\n"
    )
    assert strip_boilerplate(raw, title="Лукашенко встретился с Путиным") == (
        "Президент России Владимир Путин прилетел в Минск 19 декабря. Стороны обсудили военное сотрудничество."
    )


def test_strip_boilerplate_of_a_seed_matches_the_loaded_body(corpus: dict[str, CorpusArticle]) -> None:
    raw = (DEFAULT_CORPUS_DIR / f"{SEED_001}.txt").read_text(encoding="utf-8")
    assert strip_boilerplate(raw, title=corpus[SEED_001].title) == corpus[SEED_001].body


# --- read_article -----------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Belarus moves troops to the border | Minsk Weekly</title>
<meta property="article:published_time" content="2023-01-09T08:00:00+03:00">
<link rel="canonical" href="https://example.org/news/belarus-troops">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/subscribe">Subscribe to our newsletter</a></li></ul></nav>
<article>
<h1>Belarus moves troops to the border</h1>
<p>Belarus moved two mechanised brigades to the Ukrainian border on Monday, the defence ministry in Minsk
said in a statement published on its website.</p>
<p>The ministry called the move a routine rotation of units, but Ukrainian officials said they were
watching the northern border closely and had strengthened their own defences in the Volyn region.</p>
<p>Russia has kept about 9,000 troops in Belarus since October, according to Ukrainian intelligence,
and the two armies have held joint drills near Brest.</p>
</article>
<section id="comments" class="comments">
<h2>2 comments</h2>
<div class="comment"><p class="author">Ivan March 3, 2023 at 10:15 am</p>
<p>Lukashenko will never send troops to Ukraine, everybody knows it and nobody believes the ministry.</p></div>
</section>
<footer><p>© 2023 Minsk Weekly. All rights reserved.</p></footer>
</body></html>
"""

RUSSIAN_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>Лукашенко встретился с Путиным</title></head><body>
<article><h1>Лукашенко встретился с Путиным</h1>
<p>19 декабря президент России Владимир Путин прилетел в Минск на переговоры с Александром Лукашенко.
Это первый визит Путина в Беларусь за три с половиной года.</p>
<p>По словам Лукашенко, стороны обсудили вопросы военной безопасности на границе Союзного государства.
В Беларуси находятся около 9 тыс. российских военных.</p>
</article></body></html>
"""


def test_read_article_extracts_html_without_navigation_or_comments() -> None:
    article = read_article(HTML_PAGE.encode(), source="https://example.org/news/belarus-troops")
    assert article.title == "Belarus moves troops to the border"
    assert article.published == date(2023, 1, 9)
    assert article.url == "https://example.org/news/belarus-troops"
    assert article.body.startswith("Belarus moved two mechanised brigades to the Ukrainian border on Monday")
    assert "about 9,000 troops in Belarus since October" in article.body
    for furniture in ("Home", "Subscribe", "Ivan", "never send troops", "All rights reserved"):
        assert furniture not in article.body
    assert len(extract_claims(article.body)) == 3


def test_read_article_decodes_windows_1251_by_its_meta_charset() -> None:
    data = RUSSIAN_PAGE.encode("windows-1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    article = read_article(data, source="page.html")
    assert article.title == "Лукашенко встретился с Путиным"
    assert "Владимир Путин прилетел в Минск" in article.body
    assert extract_claims(article.body) == [
        "19 декабря президент России Владимир Путин прилетел в Минск на переговоры с Александром Лукашенко.",
        "Это первый визит Путина в Беларусь за три с половиной года.",
        "По словам Лукашенко, стороны обсудили вопросы военной безопасности на границе Союзного государства.",
        "В Беларуси находятся около 9 тыс. российских военных.",
    ]


def test_read_article_uses_the_declared_charset_of_plain_text() -> None:
    text = "Лукашенко заявил, что Беларусь не будет воевать на Украине.\n"
    article = read_article(text.encode("koi8-r"), source="note.txt", content_type="text/plain; charset=koi8-r")
    assert article.body == normalize_whitespace(text)


def test_read_article_on_plain_text_strips_boilerplate_and_finds_the_title(
    corpus: dict[str, CorpusArticle],
) -> None:
    data = (DEFAULT_CORPUS_DIR / f"{SEED_000}.txt").read_bytes()
    article = read_article(data, source="seed.txt")
    assert article == ArticleText(
        title="Will Belarus Join Forces With Russia In Ukraine?",
        body=corpus[SEED_000].body,
        published=None,
        url=None,
    )


def test_read_article_accepts_utf16_with_a_bom() -> None:
    text = "Belarus moved two brigades to the Ukrainian border on Monday.\n"
    article = read_article(text.encode("utf-16"), source="a.txt")
    assert article.body == text.strip()


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"", None, "the file is empty"),
        (b" \n\t \r\n", None, "the file is empty"),
        (b"\x00\x01\x02\x03binary\x00", None, "binary content"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None, "binary content"),
        (b"<html><head><title>Empty</title></head><body><script>var x = 1;</script></body></html>", None, "no article"),
        (b"Related articles\n\nLeave a Comment\n", "text/plain", "no article text left"),
    ],
)
def test_read_article_errors_name_the_source(data: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(BaselineFileError, match=message) as error:
        read_article(data, source="input.bin", content_type=content_type)
    assert str(error.value).startswith("input.bin: ")
