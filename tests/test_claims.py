"""Claim extraction: whitespace, paragraphs, the sentence splitter and the claim filter."""

from __future__ import annotations

import pytest

from monitor.text.claims import extract_claims, is_call_to_action, is_claim, is_comment_header, is_picture_credit
from monitor.text.sentences import normalize_whitespace, split_paragraphs, split_sentences

# --- normalize_whitespace ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Belarus\u00a0is  actively\tparticipating ", "Belarus is actively participating"),
        ("on\u202fFebruary\u200928\u3000\n in Minsk", "on February 28 in Minsk"),
        ("Minks\u00ad-3 agree\u200bment\ufeff", "Minks-3 agreement"),
        ("“massive bombardment” and ‘NO AD’", "“massive bombardment” and ‘NO AD’"),
        ("  \n\u00a0 ", ""),
    ],
)
def test_normalize_whitespace(text: str, expected: str) -> None:
    assert normalize_whitespace(text) == expected


# --- split_paragraphs -------------------------------------------------------------------------------------


def test_paragraphs_end_at_blank_lines_and_at_lines_that_do_not_continue() -> None:
    text = (
        "Tsarizm\nEastern Europe\n\n"
        "First paragraph, hard-wrapped\nin the middle of a sentence.\n"
        "Second paragraph on its own line.\r\n\r\n\u00a0Third.\n"
    )
    assert split_paragraphs(text) == [
        "Tsarizm",
        "Eastern Europe",
        "First paragraph, hard-wrapped in the middle of a sentence.",
        "Second paragraph on its own line.",
        "Third.",
    ]


# --- split_sentences --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "The U.S. Army said Mr. Smith and Dr. Jones met Gen. Khrenin and Lt. Col. Petrov on Jan. 5 in "
            "St. Petersburg. They talked for 10.5 hours.",
            [
                "The U.S. Army said Mr. Smith and Dr. Jones met Gen. Khrenin and Lt. Col. Petrov on Jan. 5 in "
                "St. Petersburg.",
                "They talked for 10.5 hours.",
            ],
            id="titles-months-decimals",
        ),
        pytest.param(
            "Sanctions came from the U.S. The EU followed a week later.",
            ["Sanctions came from the U.S.", "The EU followed a week later."],
            id="acronym-at-sentence-end",
        ),
        pytest.param(
            "Belarus has 12,000-15,000 troops, e.g. conscripts, i.e. not professionals. Russia sent S-400 "
            "systems and Iskander-M missiles.",
            [
                "Belarus has 12,000-15,000 troops, e.g. conscripts, i.e. not professionals.",
                "Russia sent S-400 systems and Iskander-M missiles.",
            ],
            id="figures-eg-ie",
        ),
        pytest.param(
            "It ran in No. 5 of the journal. The article by S. R. Mogck is on p. 12. It was cited twice.",
            ["It ran in No. 5 of the journal.", "The article by S. R. Mogck is on p. 12.", "It was cited twice."],
            id="numbers-and-initials",
        ),
        pytest.param(
            "“We are not going to go anywhere until Ukraine crosses the red line. Once it crosses our border, "
            "we will respond immediately”, Belarusian leader stressed. Kyiv denied it.",
            [
                "“We are not going to go anywhere until Ukraine crosses the red line. Once it crosses our "
                "border, we will respond immediately”, Belarusian leader stressed.",
                "Kyiv denied it.",
            ],
            id="quote-spanning-sentences",
        ),
        pytest.param(
            'He said: "We are ready. We will win." Then he left the room.',
            ['He said: "We are ready. We will win."', "Then he left the room."],
            id="straight-quotes-ending-a-sentence",
        ),
        pytest.param(
            "“Why?” he asked. Nobody answered.",
            ["“Why?” he asked.", "Nobody answered."],
            id="question-inside-a-quote",
        ),
        pytest.param(
            "He paused... and then said nothing. The room was silent… Everyone waited.",
            ["He paused... and then said nothing.", "The room was silent…", "Everyone waited."],
            id="ellipses",
        ),
        pytest.param(
            "Troops moved south (the report said so.) Kyiv was not surprised! Were they?",
            ["Troops moved south (the report said so.)", "Kyiv was not surprised!", "Were they?"],
            id="closing-bracket-exclamation-question",
        ),
        pytest.param(
            "Belarus\u00a0is actively\u00a0participating in the war.\u00a0The talks took place on February\u00a028.",
            ["Belarus is actively participating in the war.", "The talks took place on February 28."],
            id="no-break-spaces",
        ),
        pytest.param(
            "Visit cdmedia.com for more.\nThe next line is a paragraph.",
            ["Visit cdmedia.com for more.", "The next line is a paragraph."],
            id="domain-and-line-break",
        ),
        pytest.param(
            "Лукашенко заявил, что Беларусь не вступит в войну. В 2022 г. Минск принял переговоры. "
            "Президент А. Г. Лукашенко посетил г. Минск и ул. Ленина. Около 9 тыс. военных остались в стране.",
            [
                "Лукашенко заявил, что Беларусь не вступит в войну.",
                "В 2022 г. Минск принял переговоры.",
                "Президент А. Г. Лукашенко посетил г. Минск и ул. Ленина.",
                "Около 9 тыс. военных остались в стране.",
            ],
            id="russian-abbreviations-and-initials",
        ),
        pytest.param(
            "Переговоры прошли в марте 2022 г. В Минске их не комментировали.",
            ["Переговоры прошли в марте 2022 г.", "В Минске их не комментировали."],
            id="russian-year-ends-a-sentence",
        ),
        pytest.param(
            "«Мы не собираемся никуда идти. Мы ответим немедленно», — заявил Лукашенко. Киев это отрицает.",
            ["«Мы не собираемся никуда идти. Мы ответим немедленно», — заявил Лукашенко.", "Киев это отрицает."],
            id="russian-guillemets",
        ),
        pytest.param(
            "„Ми не будемо воювати. Кордон закритий“, — сказав речник. Україна посилює кордон з Білоруссю.",
            ["„Ми не будемо воювати. Кордон закритий“, — сказав речник.", "Україна посилює кордон з Білоруссю."],
            id="ukrainian-low-quotes",
        ),
        pytest.param(
            "Беларусь не будзе ваяваць. Войскі застаюцца ў казармах.",
            ["Беларусь не будзе ваяваць.", "Войскі застаюцца ў казармах."],
            id="belarusian",
        ),
        pytest.param(
            "1. Belarus held drills.\n2. Russia sent jets.",
            ["1. Belarus held drills.", "2. Russia sent jets."],
            id="numbered-lines",
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_an_unclosed_quote_does_not_swallow_the_paragraph() -> None:
    text = "“We will not go. They will understand. Kyiv knows it."
    assert split_sentences(text) == ["“We will not go.", "They will understand.", "Kyiv knows it."]


def test_a_quotation_left_open_inside_another_ends_with_it() -> None:
    text = "“He said ‘no. Never.” Then he left."
    assert split_sentences(text) == ["“He said ‘no. Never.”", "Then he left."]


def test_apostrophes_are_not_quotes() -> None:
    text = "Belarus’ support is clear. Russia’s army is not. The troops’ morale is low."
    assert split_sentences(text) == [
        "Belarus’ support is clear.",
        "Russia’s army is not.",
        "The troops’ morale is low.",
    ]


def test_split_sentences_of_nothing() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n\u00a0\n") == []


# --- is_claim ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Putin flew to Minsk.",
        "Kyiv denied it.",
        "Still, Ukrainian authorities remains vigilant.",
        "Everything about Putin is a PR stunt.",
        "Belarus joined the war!",
        "Share prices fell sharply in Moscow on Monday.",
        "Netflix suspended its subscription service in Russia.",
        "Follow-up talks were held in Minsk on February 28.",
        "With only 9,000 troops in Belarus, Russia can seize some villages in northern Ukraine.",
        "“We are not going anywhere. We will respond immediately”, Belarusian leader stressed.",
        "“Russia’s military intelligence agency (GRU) is planning strikes on the Mozyr Oil Refinery. The attacks "
        "will be accompanied by explosions”, Ukrainian intelligence said",
        "Лукашенко — президент Беларуси.",
        "Путин прилетел в Минск.",
        "Україна посилює кордон з Білоруссю.",
        "Беларусь не будзе ваяваць.",
        # a Ukrainian present tense in -е, which no verb ending tells from a noun's
        "Білоруська армія не бере участі у війні.",
        "Лукашенко каже, що армія готова.",
        # a question reported inside a statement, and a footnote mark after the full stop
        "He asked: “Will Belarus join the war?”",
        "Журналист спросил: «Вступит ли Беларусь в войну?»",
        "Pocket published it in 1980.*",
    ],
)
def test_checkable_sentences_are_claims(sentence: str) -> None:
    assert is_claim(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        # questions
        "But can it really?",
        "Does that mean that the war will soon spill over to The Union State?",
        "But why did Putin travel to Minsk then?",
        "Will Belarus Deploy Troops To Ukraine?",
        "Вступит ли Беларусь в войну?",
        "“Will Belarus join the war?”",
        # calls to the reader
        "Please Follow us on Gab, Minds, Telegram, Rumble, Gab TV, GETTR",
        "Please Follow us on GabMindsTelegramRumbleGab TVGETTRTruth Social",
        "Subscribe to our evening newsletter to stay informed during these challenging times!!",
        "‘NO AD’ subscription for CDM!",
        "Sign up here and support real investigative journalism and help save the republic!‘",
        "You Won’t Get Anywhere Else What You Get From CDMedia!",
        "Donate!",
        "Leave a Comment",
        "Share this article with your friends.",
        "Click here to read the full report.",
        "Подпишитесь на наш телеграм-канал!",
        "Підпишіться на наш канал, щоб не пропустити новини.",
        "Падпісвайцеся на наш канал у Telegram.",
        # headings, title-case fragments, navigation, metadata
        "Related articles",
        "Tsarizm",
        "Eastern Europe",
        "Iran: An Imminent And Uncontrollable Explosion",
        "The Russian Way of Warfare, A Primer",
        "Kremlin Warns US Embassy In Moscow Over Breaking Russian Law By Flying LGBTQ Rainbow Flag",
        "Home | World | Europe | Belarus",
        "Updated: March 5, 2022.",
        "Thanks for reading.",
        # bylines
        "Tsarizm Staff",
        "L Todd Wood",
        "S. R. Mogck",
        "Baruch Pletner,PhD,MBA",
        "By John Smith.",
        # captions and credits
        "Belarusian President Aleksander Lukashenko’s mustache",
        "Image by Информационное агентство БелТА",
        "Image by Presidential Press and Information Office",
        "Photo: Reuters/Vasily Fedosenko",
        "Фото: БелТА",
        "Состоялся двухдневный визит Владимира Путина в Белоруссию",
        # reader-comment headers
        "SCUM March 2, 2022 at 5:00 pm",
        "Steven March 5, 2022 at 2:34 am",
        "Htos1av December 22, 2022 at 9:19 am",
        "Иван 20 декабря 2022 в 14:34",
        "12 comments",
        # nothing
        "",
        "   ",
    ],
)
def test_non_claims_are_rejected(sentence: str) -> None:
    assert not is_claim(sentence)


def test_calls_to_action_are_told_apart_from_news_about_subscriptions() -> None:
    assert is_call_to_action("Subscribe to our evening newsletter!")
    assert is_call_to_action("Sign up here and support real investigative journalism!")
    assert not is_call_to_action("Netflix suspended its subscription service in Russia.")
    assert not is_call_to_action("Belarus refused to sign up to the treaty.")
    assert not is_call_to_action("Putin told the troops: “Defend our land!”")
    assert not is_call_to_action("Лукашенко заявил: «Мы защитим нашу страну!»")


@pytest.mark.parametrize(
    ("text", "credit", "comment_header"),
    [
        ("Image by Presidential Press and Information Office", True, False),
        ("(AP Photo/Sergei Grits)", True, False),
        ("Фото: БелТА", True, False),
        ("Htos1av December 22, 2022 at 9:19 am", False, True),
        ("Олег 5 марта 2022 в 14:34", False, True),
        ("3 Responses to “Will Belarus Join?”", False, True),
        ("Mary says:", False, True),
        ("Belarus moved troops on March 5, 2022 at 10:00 am, officials said.", False, False),
        (
            "Getty Images and Reuters photographers were turned back at the border crossing near Brest "
            "on Monday, and their equipment was seized by Belarusian customs officers who cited new rules.",
            False,
            False,
        ),
    ],
)
def test_picture_credits_and_comment_headers(text: str, credit: bool, comment_header: bool) -> None:
    assert is_picture_credit(text) is credit
    assert is_comment_header(text) is comment_header


# --- extract_claims ---------------------------------------------------------------------------------------


def test_extract_claims_keeps_order_and_drops_repeats_and_non_claims() -> None:
    text = (
        "Belarus Moves Troops\n\n"
        "Belarus moved two brigades to the border. Why?\u00a0Nobody knows the reason.\n\n"
        "Belarus  moved two brigades to the border.\n\n"
        "Please follow us on Telegram\n"
    )
    assert extract_claims(text) == ["Belarus moved two brigades to the border.", "Nobody knows the reason."]


def test_extract_claims_of_nothing() -> None:
    assert extract_claims("") == []
