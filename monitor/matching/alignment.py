"""Whether two claims are about the same proposition, part by part: the thing named, who acts, what a
figure counts.

Similarity of words and sentence vectors cannot tell a claim from its neighbour on the same topic: "the
Pantsir systems intercepted all the missiles" is worded much like "Belarus bought S-400 systems", and
"8,000 Wagner fighters may be deployed in Belarus" much like "9,000 Russian troops in Belarus". An
analyst sets them apart by their parts. `conflicts` finds where the parts disagree:
- `system`: each claim names weapon systems and they have none in common (Pantsir / S-400, tactical
  nuclear weapons / Iskander missiles);
- `actor`: the new claim is about an armed group the baseline claim does not name (Wagner, the
  Kalinouski regiment);
- `event`: the new claim reports an event of its own kind (the missiles were intercepted) that the
  baseline claim does not (they were fired, bought), and not the baseline claim's event as well;
- `other event`: each tells only events of another family (a delivery: transferred, deployed, bought; a
  strike: fired, attacked), however alike their weapons ("the transfer of Iskander-M systems" / "fired
  Iskander missiles");
- `count`: both count something and no figure of one counts what a figure of the other counts (fighters /
  troops, reservists / troops), or they count the same thing of different nations (Belarusian soldiers /
  Russian personnel);
- `forces`: each speaks of troops or an army named by their nation, and of no nation in common ("Belarusian
  troops had entered Ukraine" / "Russian troops ... have entered Ukrainian territory from Belarus"); troops
  placed in Belarus or Ukraine with no nation named are Russia's ("the accumulation of troops in Belarus"
  / "Belarusian soldiers have joined the Ukrainian Army");
- `target`: each tells of a strike on a named country and the countries differ, or one of a strike on the
  country the other's comes from ("the West was preparing to attack Belarus" / "Russia is preparing to
  attack its territory from Belarus").
- `other event` too: one claim tells only of joining an organisation, a treaty or talks ("joined the
  Shanghai Cooperation Organisation"), the other of taking part in the war ("is actively participating
  in Russia's invasion");
- `site`: each names the place of a power plant, a refinery or an airfield of the same kind, and the places
  differ ("the nuclear power plant in Astravets" / "the Chernobyl nuclear power plant");
- `border`: each speaks of a border and names a different country beside it among those Belarus borders
  ("Latvia reinforced its border with Belarus" / "the defense of Ukraine's border with Belarus").
Each conflict carries the words on both sides, for the evidence. The matcher lowers a candidate's rank and
its probability for each (`relevance`); it does not forbid the match outright, since a sentence can carry
a second proposition the parts do not show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from monitor.matching.figures import Figure
from monitor.matching.lexicon import Lexicon
from monitor.matching.normalize import COUNT_PREFIX, ClaimAnalysis, head_keys
from monitor.matching.text import stem

# The entity keys that name a nation whose forces a figure can count.
NATIONS = frozenset({"russia", "belarus", "ukrain"})


@dataclass(frozen=True)
class Conflict:
    """One part on which the two claims disagree, with the words of each side."""

    kind: str  # "system", "unnamed system", "actor", "event", "other event", "count", "forces", "target",
    # "border", "site", "visit", "agent"
    new: str
    base: str

    def describe(self) -> str:
        """The conflict in words, for the evidence ("names Pantsir, the baseline claim names S-400")."""
        if self.kind == "system":
            return f"names {self.new}, the baseline claim names {self.base}"
        if self.kind == "unnamed system":
            return f"names {self.new}, of which the baseline claim says nothing"
        if self.kind == "actor":
            return f"is about {self.new}, whom the baseline claim does not name"
        if self.kind == "event":
            return f"reports that something was {self.new}, which the baseline claim does not"
        if self.kind in ("other event", "target"):
            return f"tells of {self.new}, the baseline claim of {self.base}"
        if self.kind == "forces":
            return f"is about {self.new}, the baseline claim about {self.base}"
        if self.kind == "site":
            return f"is about the {self.new}, the baseline claim about the {self.base}"
        if self.kind == "agent":
            return f"tells what {self.new} does, the baseline claim what {self.base} does"
        if self.kind == "visit":
            return f"tells of a visit to {self.new}, the baseline claim of one to {self.base}"
        if self.kind == "border":
            return f"is about the border of {self.new}, the baseline claim about the border of {self.base}"
        return f"counts {self.new}, the baseline claim counts {self.base}"


def _keys_in(analysis: ClaimAnalysis, keys: frozenset[str]) -> dict[str, str]:
    """The keys of `keys` among the claim's terms, each with the words that stand for it."""
    found: dict[str, str] = {}
    for term, surface in zip(analysis.terms, analysis.surfaces, strict=True):
        if term in keys:
            found.setdefault(term, surface)
    return found


# Words before a country's name that make it a place, not the one who acts ("troops in Belarus").
_PLACE_WORDS = frozenset(
    {
        "in",
        "into",
        "from",
        "to",
        "across",
        "within",
        "inside",
        "near",
        "on",
        "at",
        "around",
        "of",
        "via",
        "в",
        "во",
        "на",
        "из",
        "у",
        "з",
        "ў",
        "до",
        "по",
        "с",
        "со",
        "через",
    }
)


def _nations(figure: Figure, lexicon: Lexicon) -> frozenset[str]:
    """The nations named among the words a count counts ("9,000 Russian troops" -> {"russia"}), up to a
    word that makes what follows a place ("troops in Belarus" names no nation of the troops)."""
    found: set[str] = set()
    head: list[str] = []
    for word in figure.head:
        if word in _PLACE_WORDS:
            break
        head.append(word)
    words = [stem(word) for word in head]
    for _, _, key in lexicon.variants.find(words, head):
        if key in NATIONS:
            found.add(key)
    return frozenset(found)


def _actor_before(analysis: ClaimAnalysis, figure: Figure) -> frozenset[str]:
    """The nation that acts in the words before a count, when the count names none ("Russia now keeps
    about 10,500 troops in Belarus": Russia's troops); a country named as a place does not count."""
    if figure.token not in analysis.words:
        return frozenset()
    position = analysis.words.index(figure.token)
    for term, start in reversed(list(zip(analysis.terms, analysis.term_starts, strict=True))):
        if start >= position or term not in NATIONS:
            continue
        if start > 0 and analysis.words[start - 1] in _PLACE_WORDS:
            continue
        return frozenset({term})
    return frozenset()


# Words between "the number of" and what it counts that say nothing of what it is ("the number of its
# troops").
_DETERMINERS = frozenset({"the", "its", "their", "his", "her", "our", "these", "those"})


def _numbers_of(analysis: ClaimAnalysis) -> list[Figure]:
    """ "The number of airstrikes" as a count without its figure: what it counts is a part of the claim
    as much as "9,000 troops" is ("Russia reduced the number of its troops" is not about airstrikes)."""
    found = []
    words = analysis.words
    for position in range(len(words) - 2):
        if words[position] == "number" and words[position + 1] == "of":
            head = [word for word in words[position + 2 : position + 6] if word not in _DETERMINERS][:2]
            found.append(Figure("count", None, None, "number of", position, position + 2, tuple(head)))
    return found


@lru_cache(maxsize=4096)  # a claim is checked against each of its best candidates, and they against many claims
def _counted(analysis: ClaimAnalysis, lexicon: Lexicon) -> tuple[tuple[Figure, frozenset[str], frozenset[str]], ...]:
    """Each count of the claim that says what it counts, with or without its figure: (figure, what, of
    which nations)."""
    counts = []
    for figure in analysis.figures:
        if figure.kind != "count":
            continue
        what = head_keys(figure, lexicon)
        if what:
            counts.append((figure, what, _nations(figure, lexicon) or _actor_before(analysis, figure)))
    for figure in _numbers_of(analysis):
        what = head_keys(figure, lexicon)
        if what:
            counts.append((figure, what, _nations(figure, lexicon)))
    return tuple(counts)


def both_count(new: ClaimAnalysis, base: ClaimAnalysis) -> bool:
    """Whether each claim gives a count ("more than a thousand Belarusians", "dozens of Belarusian
    soldiers"): a checkable part in common beyond their words, which may be an update."""
    return any(f.kind == "count" for f in new.figures) and any(f.kind == "count" for f in base.figures)


# A count whose upper bound is more than this many times its lower one is no precise figure ("dozens",
# "thousands of"), and a figure is of a share of what it counts when a relative clause follows it ("troops
# that could take part in a possible invasion"): an army's size is not the share that could invade.
_PRECISE_SPAN = 2.0
_RESTRICTING = frozenset({"that"})


# How many words after a share's restricting word tell what restricts it ("that could take part in a
# possible invasion").
_RESTRICTION_REACH = 6


def _precise(analysis: ClaimAnalysis, figure: Figure) -> bool:
    """Whether a count is a precise figure (see `_PRECISE_SPAN`) written in the claim."""
    if figure.low is None or figure.high is None or figure.high > _PRECISE_SPAN * figure.low:
        return False
    return figure.token in analysis.words


def _restriction(analysis: ClaimAnalysis, figure: Figure, lexicon: Lexicon) -> frozenset[str] | None:
    """None for a figure of all it counts; for a figure of a share ("troops that could take part in a
    possible invasion"), the terms of the clause that restricts it (see `_RESTRICTING`)."""
    words = analysis.words
    position = words.index(figure.token)
    restricting = lexicon.relative_words | _RESTRICTING
    after = next((i for i in range(position + 1, min(position + 4, len(words))) if words[i] in restricting), None)
    if after is None:
        return None
    reach = range(after + 1, after + 1 + _RESTRICTION_REACH)
    return frozenset(term for term, start in zip(analysis.terms, analysis.term_starts, strict=True) if start in reach)


@lru_cache(maxsize=4096)  # as `_counted`: a claim is set against each of its best candidates
def _precise_counts(
    analysis: ClaimAnalysis, lexicon: Lexicon
) -> tuple[tuple[tuple[Figure, frozenset[str], frozenset[str]], frozenset[str] | None], ...]:
    """The claim's precise counts (`_counted`, `_precise`), each with what restricts it to a share."""
    return tuple(
        (count, _restriction(analysis, count[0], lexicon))
        for count in _counted(analysis, lexicon)
        if _precise(analysis, count[0])
    )


def same_count(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> bool:
    """Whether both claims give a precise figure of the same thing, of one nation or of none named ("10.5
    thousand military personnel" and "9,000 troops in Belarus"): the proposition an updated figure speaks
    to, however few other words the two share. A figure of a share is the same count only as a figure of
    the same share ("45,000 troops that could take part in an invasion" and "12,000-15,000 troops that
    could take part in a possible invasion"): an army's size is not the share that could invade."""
    new_counts = _precise_counts(new, lexicon)
    if not new_counts:
        return False
    base_counts = _precise_counts(base, lexicon)
    return any(
        a[1] & b[1]
        and (not a[2] or not b[2] or a[2] & b[2])
        and ((share_a is None and share_b is None) or bool(share_a and share_b and share_a & share_b))
        for a, share_a in new_counts
        for b, share_b in base_counts
    )


def _count_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    new_counts, base_counts = _counted(new, lexicon), _counted(base, lexicon)
    if not new_counts or not base_counts:
        return None
    same_thing = [(a, b) for a in new_counts for b in base_counts if a[1] & b[1]]
    if not same_thing:
        figure, base_figure = new_counts[0][0], base_counts[0][0]
        return Conflict("count", " ".join(figure.head[:2]), " ".join(base_figure.head[:2]))
    if all(a[2] and b[2] and not a[2] & b[2] for a, b in same_thing):
        figure, base_figure = same_thing[0][0][0], same_thing[0][1][0]
        return Conflict("count", " ".join(figure.head[:2]), " ".join(base_figure.head[:2]))
    return None


# The concepts that name a nation's armed forces ("Belarusian troops", "the Russian army").
_FORCES = frozenset({"troop", "militari"})


@lru_cache(maxsize=4096)  # as `_counted`: a baseline claim is checked against many new claims
def _forces_nations(analysis: ClaimAnalysis) -> Mapping[str, str]:  # cached: never changed
    """The nations whose forces a claim names, by the nation words right before the forces ("Belarusian
    troops", "Russia's army", "Russian and Belarusian troops"), each with its words; not a place after
    them ("troops in Belarus")."""
    found: dict[str, str] = {}
    terms, starts, surfaces = analysis.terms, analysis.term_starts, analysis.surfaces
    for i, term in enumerate(terms):
        # "Military" alone is as often an adjective ("Russian military operations") as the army itself.
        if term not in _FORCES or surfaces[i] == "military":
            continue
        j = i - 1
        while j >= 0 and terms[j] in NATIONS and starts[j] >= starts[j + 1] - 2:
            found.setdefault(terms[j], f"{surfaces[j]} {surfaces[i]}")
            j -= 1
    return found


# How many words may stand between troops and the country they are in ("troops on the Belarusian soil").
_PLACE_REACH = 3
# On this beat, troops in Belarus or Ukraine whose nation a claim does not name are Russia's ("the
# accumulation of troops in Belarus", "9,000 troops in Belarus"): an army's own are named by their nation
# ("the Belarusian army").
_STATIONED_IN = frozenset({"belarus", "ukrain"})
_STATIONING_NATION = "russia"
# Words that say where troops are (not where they go: "send its army into Ukraine" is Belarus's army), and
# the possessives that say whose they are without a name ("its troops").
_LOCATIVE_WORDS = frozenset({"in", "on", "inside", "within", "across", "at", "в", "на", "у", "ў"})
_POSSESSIVES = frozenset({"its", "their", "his", "her", "our", "own", "свои", "своих", "свої", "сваіх"})


@lru_cache(maxsize=4096)  # as `_forces_nations`
def _placed_forces(analysis: ClaimAnalysis, lexicon: Lexicon) -> Mapping[str, str]:  # cached: never changed
    """The nation of the troops a claim places in Belarus or Ukraine without naming theirs, with the
    words ("troops in Belarus" -> Russia); empty where it names a nation's forces, or names them by
    another word of the lexicon ("Wagner troops", "Polish troops")."""
    if _forces_nations(analysis):
        return {}
    terms, starts, surfaces, words = analysis.terms, analysis.term_starts, analysis.surfaces, analysis.words
    named_by = lexicon.entity_keys | lexicon.actor_keys | lexicon.concept_keys
    for i, term in enumerate(terms):
        if term not in _FORCES or surfaces[i] == "military":
            continue
        after = starts[i] + len(surfaces[i].split())
        if after >= len(words) or words[after] not in _LOCATIVE_WORDS:
            continue
        if starts[i] > 0 and words[starts[i] - 1] in _POSSESSIVES:
            continue
        if i > 0 and starts[i - 1] == starts[i] - 1 and terms[i - 1] in named_by:
            continue
        for j in range(i + 1, len(terms)):
            if starts[j] > after + _PLACE_REACH:
                break
            if terms[j] in NATIONS:
                if terms[j] in _STATIONED_IN:
                    return {_STATIONING_NATION: " ".join(words[starts[i] : starts[j] + 1])}
                break
    return {}


def _forces_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    new_forces = _forces_nations(new) or _placed_forces(new, lexicon)
    base_forces = _forces_nations(base) or _placed_forces(base, lexicon)
    if new_forces and base_forces and not new_forces.keys() & base_forces.keys():
        return Conflict("forces", ", ".join(new_forces.values()), ", ".join(base_forces.values()))
    return None


def _event_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """The new claim reports an event of its own kind (see `Lexicon.distinct_events`) that the baseline
    claim does not, and tells none of the baseline claim's events."""
    new_terms, base_terms = set(new.terms), set(base.terms)
    if new_terms & base_terms & lexicon.event_keys:
        return None
    for term in new.terms:
        if term in lexicon.distinct_events and term not in base_terms:
            return Conflict("event", new.surface_of(term), "")
    return None


def _family_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Each claim tells only events of one family, and the families differ (see `Lexicon.event_families`).
    Not where both count the same thing: the count is then what they share ("About 12,000 Russian troops are
    now stationed in Belarus" updates "With only 9,000 troops in Belarus, Russia can seize some villages",
    whatever either tells of what the troops do)."""
    new_events, base_events = _events(new, lexicon), _events(base, lexicon)
    if not new_events or not base_events or new_events & base_events:
        return None
    if any(term[:1] == COUNT_PREFIX and term in base.terms for term in new.terms):
        return None
    for family in lexicon.event_families:
        for other in lexicon.event_families:
            if family is not other and new_events <= family and base_events <= other:
                return Conflict(
                    "other event",
                    ", ".join(dict.fromkeys(new.surface_of(term) for term in new.terms if term in new_events)),
                    ", ".join(dict.fromkeys(base.surface_of(term) for term in base.terms if term in base_events)),
                )
    return None


# Words that may stand between a strike and the country struck ("an attack on Ukraine", "the invasion of
# Ukraine"); "from" names where it comes from ("to attack its territory from Belarus"), within a few words.
_TARGET_LINKS = frozenset({"on", "of", "against", "into", "at", "the", "its", "a"})
_TARGET_REACH = 3
_SOURCE_REACH = 6
# Places a strike can be aimed at or come from, besides the beat's countries and capitals (a capital
# stands for its country: an attack on Kyiv is one on Ukraine).
_OTHER_PLACES = frozenset({"polish"})


@dataclass(frozen=True)
class _Strikes:
    targets: Mapping[str, str]  # country -> the words ("attack Belarus")
    sources: Mapping[str, str]  # country -> the words ("attack its territory from Belarus")


@lru_cache(maxsize=4096)  # as `_forces_nations`
def _strikes(analysis: ClaimAnalysis, lexicon: Lexicon) -> _Strikes:  # cached: never changed
    """The countries a claim tells of a strike on (the strike family of `[events] families`: attacked,
    invaded, seized) and from, each with its words: the country right after the strike, a link word or two
    between ("attack Belarus", "the invasion of Ukraine", "attacks on Kyiv"), and one after "from" a few
    words on ("attack its territory from Belarus")."""
    strikes = _strike_family(lexicon)
    places = lexicon.country_keys | _OTHER_PLACES
    terms, starts, surfaces, words = analysis.terms, analysis.term_starts, analysis.surfaces, analysis.words
    at = {start: i for i, start in enumerate(starts)}

    def place_at(position: int) -> str | None:
        place = terms[at[position]] if position in at else None
        return lexicon.stands_for.get(place, place) if place in places else None

    targets: dict[str, str] = {}
    sources: dict[str, str] = {}
    for i, term in enumerate(terms):
        if term not in strikes:
            continue
        after = starts[i] + len(surfaces[i].split())
        position = after
        while position < len(words) and words[position] in _TARGET_LINKS and position - after < _TARGET_REACH:
            position += 1
        target = place_at(position)
        if target is not None:
            targets.setdefault(target, " ".join(words[starts[i] : position + 1]))
        for position in range(after, min(len(words) - 1, after + _SOURCE_REACH)):
            if words[position] == "from":
                source = place_at(position + 1)
                if source is not None:
                    sources.setdefault(source, " ".join(words[starts[i] : position + 2]))
                break
    return _Strikes(targets, sources)


@lru_cache(maxsize=8)  # one per lexicon
def _strike_family(lexicon: Lexicon) -> frozenset[str]:
    """The family of `[events] families` that strikes are of (attack, invasion, capture, launch)."""
    return next((family for family in lexicon.event_families if stem("attack") in family), frozenset())


def _target_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Each claim tells of a strike on another country, or one claim of a strike on the country the other's
    strike comes from ("attack Belarus" / "attack its territory from Belarus")."""
    strikes = _strike_family(lexicon)
    if not (_events(new, lexicon) & strikes and _events(base, lexicon) & strikes):
        return None  # most pairs: one of them tells of no strike
    new_strikes, base_strikes = _strikes(new, lexicon), _strikes(base, lexicon)
    new_targets, base_targets = new_strikes.targets, base_strikes.targets
    if new_targets and base_targets and not new_targets.keys() & base_targets.keys():
        return Conflict("target", ", ".join(new_targets.values()), ", ".join(base_targets.values()))
    for country, words in new_targets.items():
        if country in base_strikes.sources and country not in base_targets:
            return Conflict("target", words, base_strikes.sources[country])
    for country, words in base_targets.items():
        if country in new_strikes.sources and country not in new_targets:
            return Conflict("target", new_strikes.sources[country], words)
    return None


# What one joins as a member, not as a belligerent: an organisation, a bloc, a treaty, talks.
_MEMBERSHIPS = frozenset(
    {
        "organisation",
        "organization",
        "bloc",
        "alliance",
        "union",
        "brics",
        "sco",
        "csto",
        "eaeu",
        "treaty",
        "agreement",
        "pact",
        "convention",
        "talks",
        "negotiations",
        "summit",
        "forum",
        "programme",
        "program",
    }
)
# How many words after "join" may name what is joined ("joined the Shanghai Cooperation Organisation").
_MEMBERSHIP_REACH = 4
_INVOLVE = stem("involve")


def _involvements(analysis: ClaimAnalysis) -> tuple[list[str], list[str]]:
    """The claim's words of joining or taking part, split into those that join an organisation, a treaty
    or talks (each with the words up to what is joined) and the others."""
    memberships: list[str] = []
    others: list[str] = []
    words = analysis.words
    for term, start, surface in zip(analysis.terms, analysis.term_starts, analysis.surfaces, strict=True):
        if term != _INVOLVE:
            continue
        after = start + len(surface.split())
        joined = next(
            (i for i in range(after, min(len(words), after + _MEMBERSHIP_REACH)) if words[i] in _MEMBERSHIPS), None
        )
        if joined is None:
            others.append(surface)
        else:
            memberships.append(" ".join(words[start : joined + 1]))
    return memberships, others


def _membership_conflict(new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """One claim joins only an organisation, a treaty or talks; the other takes part in something else."""
    if _INVOLVE not in new.terms or _INVOLVE not in base.terms:
        return None  # most pairs: one of them joins nothing
    new_joins, new_parts = _involvements(new)
    base_joins, base_parts = _involvements(base)
    if new_joins and not new_parts and base_parts and not base_joins:
        return Conflict("other event", ", ".join(new_joins), ", ".join(base_parts))
    if base_joins and not base_parts and new_parts and not new_joins:
        return Conflict("other event", ", ".join(new_parts), ", ".join(base_joins))
    return None


# Facilities named by their place, and how their kind is written ("the Chernobyl nuclear power plant", "the
# Mozyr oil refinery", "the Machulishchy airfield"): the name right before the kind, or after "in", "at",
# "near" right after it.
_FACILITY_KINDS = {
    "nuclear power plant": "plant",
    "power plant": "plant",
    "nuclear plant": "plant",
    "oil refinery": "refinery",
    "refinery": "refinery",
    "airfield": "airfield",
    "air base": "airfield",
    "airbase": "airfield",
}
_FACILITY = "|".join(sorted((re.escape(kind) for kind in _FACILITY_KINDS), key=len, reverse=True))
# The terms of the facilities' kinds: a claim with none of them names no facility.
_FACILITY_TERMS = frozenset(stem(word) for word in ("plant", "refinery", "airfield", "airbase", "base"))
# Capitalised words before a facility's kind that name no place ("Nuclear power plant in Astravets").
_NOT_SITES = frozenset({"the", "a", "an", "its", "his", "their", "new", "old", "nuclear", "power", "oil", "air"})
# The place is a capitalised word; the kind and the link words are matched in any case.
_SITE_BEFORE = re.compile(rf"\b([A-Z][\w’'-]+)\s+((?i:{_FACILITY}))\b")
_SITE_AFTER = re.compile(rf"\b((?i:{_FACILITY}))\s+(?i:in|at|near)\s+([A-Z][\w’'-]+)")


@lru_cache(maxsize=4096)  # per claim: read for every candidate naming a facility too
def _sites(analysis: ClaimAnalysis, lexicon: Lexicon) -> dict[tuple[str, str], str]:
    """The facilities a claim names by their place: (kind, the place as the lexicon reads it) -> the words."""
    found: dict[tuple[str, str], str] = {}
    text = analysis.text
    pairs = [(m.group(1), m.group(2), m.group(0)) for m in _SITE_BEFORE.finditer(text)]
    pairs += [(m.group(2), m.group(1), m.group(0)) for m in _SITE_AFTER.finditer(text)]
    for place, kind, words in pairs:
        if place.lower() in _NOT_SITES:
            continue
        terms = _terms_of_word(place, lexicon)
        # A country names no one plant ("a Ukrainian nuclear power plant" may be Chernobyl's).
        if terms and terms[0] not in lexicon.country_keys | lexicon.neighbour_keys:
            found.setdefault((_FACILITY_KINDS[kind.lower()], terms[0]), words.lower())
    return found


@lru_cache(maxsize=4096)
def _terms_of_word(word: str, lexicon: Lexicon) -> tuple[str, ...]:
    from monitor.matching.normalize import analyze_claim

    return analyze_claim(word, lexicon).terms


def _site_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Each claim names a facility of one kind by its place, and the places differ."""
    if not any(term in _FACILITY_TERMS for term in new.terms):
        return None  # most claims name no facility
    new_sites = _sites(new, lexicon)
    if not new_sites:
        return None
    base_sites = _sites(base, lexicon)
    for kind in {kind for kind, _ in new_sites}:
        ours = {place: words for (of, place), words in new_sites.items() if of == kind}
        theirs = {place: words for (of, place), words in base_sites.items() if of == kind}
        if theirs and not ours.keys() & theirs.keys():
            return Conflict("site", ", ".join(ours.values()), ", ".join(theirs.values()))
    return None


# A visit and where it went: "visited Beijing", "a trip to Minsk", "flew to Moscow", "arrived in Minsk". The
# verb and its link in any case, the place a capitalised word.
_VISIT = re.compile(
    r"\b(?i:visit(?:ed|s|ing)?|(?:trip|visit|travel(?:l?ed|s)?|flew|flies|fly|went|came|came back) to"
    r"|arrived in|arrives in|arrival in)\s+(?:the\s+)?([A-Z][\w’'-]+)"
)
# The stems of the words that tell a visit: a claim with none of them tells none.
_VISIT_TERMS = frozenset(
    stem(word) for word in ("visit", "trip", "travel", "fly", "flew", "went", "came", "arrived", "arrival")
)


@lru_cache(maxsize=4096)  # per claim: read for every candidate telling a visit too
def _destinations(analysis: ClaimAnalysis, lexicon: Lexicon) -> dict[str, str]:
    """Where a claim's visits went: the place as the lexicon reads it (a capital as its country) -> the
    place as written ("Beijing")."""
    found: dict[str, str] = {}
    for match in _VISIT.finditer(analysis.text):
        terms = _terms_of_word(match.group(1), lexicon)
        if terms:
            found.setdefault(_country_of(terms[0], lexicon), match.group(1))
    return found


def _visit_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Each claim tells of a visit, and they went to different places ("Khrenin visited Beijing" against
    "Shoigu also visited Minsk, where he met ... Khrenin": the same minister, another trip). A capital and
    its country are one place ("Putin's trip to Belarus", "Putin flew to Minsk")."""
    if _VISIT_TERMS.isdisjoint(new.terms) or _VISIT_TERMS.isdisjoint(base.terms):
        return None  # most pairs: one of them tells no visit
    ours = _destinations(new, lexicon)
    theirs = _destinations(base, lexicon) if ours else {}
    if ours and theirs and not ours.keys() & theirs.keys():
        return Conflict("visit", ", ".join(ours.values()), ", ".join(theirs.values()))
    return None


def _named_country(term: str, lexicon: Lexicon) -> str | None:
    """The country a term names or stands for ("Kyiv", "Zelensky" -> Ukraine; "Lukashenko" -> Belarus;
    "Poland" -> Poland), or None."""
    country = lexicon.stands_for.get(term, term)
    return country if country in lexicon.country_keys or country in lexicon.neighbour_keys else None


# How far before an act its agent may stand, in words, and the words that may stand between them: the
# auxiliaries, adverbs and aspect verbs of the act ("Russia has already deployed", "Kyiv has started
# tightening up", "Lukashenko to deploy") and the forces of the agent ("Russian troops have withdrawn").
_AGENT_REACH = 5
_BETWEEN_AGENT_AND_ACT = frozenset(
    {
        "has", "have", "had", "is", "are", "was", "were", "be", "been", "will", "would", "could", "can", "may",
        "might", "to", "not", "never", "already", "also", "now", "still", "recently", "just", "again", "further",
        "reportedly", "allegedly", "undoubtedly", "clearly", "officially", "significantly", "actively", "finally",
        "started", "starts", "start", "began", "begun", "begins", "continue", "continues", "continued", "keeps",
        "kept", "troops", "forces", "army", "military", "soldiers", "armed", "the", "its", "their",
    }
)  # fmt: skip


@lru_cache(maxsize=4096)  # per claim: read for every candidate sharing an act
def _agents(analysis: ClaimAnalysis, lexicon: Lexicon) -> dict[str, tuple[str, str]]:
    """Who does each act or move a claim tells (`[events] acts`, `[beat] directions`): act -> (the agent's
    country, the agent as written), where a country, its capital or its leader stands right before it
    ("Poland deployed troops", "Lukashenko to deploy troops"), not as a place ("troops in Belarus")."""
    keys = lexicon.act_keys | lexicon.direction_keys
    term_at = dict(zip(analysis.term_starts, analysis.terms, strict=True))
    words = analysis.words
    found: dict[str, tuple[str, str]] = {}
    for term, start in zip(analysis.terms, analysis.term_starts, strict=True):
        if term not in keys or term in found:
            continue
        for position in range(start - 1, max(start - 1 - _AGENT_REACH, -1), -1):
            country = _named_country(term_at[position], lexicon) if position in term_at else None
            if country is not None:
                if position == 0 or words[position - 1] not in _PLACE_WORDS:
                    found[term] = (country, analysis.surface_of(term_at[position]))
                break
            if words[position] not in _BETWEEN_AGENT_AND_ACT:
                break
    return found


def _agent_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Both claims tell the same act or move, or opposite ones, each done by a country it names, and the
    countries differ ("Poland deployed troops" against "the Kremlin ... pressured Lukashenko to deploy
    troops"; "Belarus reduced the number of troops on its border" against "Kyiv has already started
    tightening up the defense of Ukraine's border")."""
    ours = _agents(new, lexicon)
    if not ours:
        return None  # most claims: no act with its agent right before it
    theirs = _agents(base, lexicon)
    for act, (country, surface) in ours.items():
        for other, (their_country, their_surface) in theirs.items():
            related = act == other or other in lexicon.antonyms.get(act, frozenset())
            if related and country != their_country:
                return Conflict("agent", surface, their_surface)
    return None


# How many words from "border" a country's name may stand and still say whose border it is ("Latvia
# reinforced its border with Belarus", "the border between Lithuania and Belarus").
_BORDER_REACH = 4
_BORDER = stem("border")


@lru_cache(maxsize=4096)  # per claim: read for every candidate that speaks of a border too
def _borders(analysis: ClaimAnalysis, lexicon: Lexicon) -> dict[str, str]:
    """The countries Belarus borders (`[beat] neighbours`, a capital standing for its country) that a claim
    names beside a border, each with its name as the claim writes it."""
    terms, starts = analysis.terms, analysis.term_starts
    at_border = [start for term, start in zip(terms, starts, strict=True) if term == _BORDER]
    found: dict[str, str] = {}
    if not at_border:
        return found
    for term, start, surface in zip(terms, starts, analysis.surfaces, strict=True):
        country = _country_of(term, lexicon)
        if country not in lexicon.neighbour_keys:
            continue
        if any(abs(position - start) <= _BORDER_REACH for position in at_border):
            found.setdefault(country, surface)
    return found


def _country_of(term: str, lexicon: Lexicon) -> str:
    """The country a term names: a capital stands for its country ("Kyiv" -> Ukraine), any other term for
    itself."""
    return lexicon.stands_for.get(term, term) if term in lexicon.country_keys else term


def _neighbours(analysis: ClaimAnalysis, lexicon: Lexicon) -> frozenset[str]:
    """Every country Belarus borders that a claim names, wherever (a capital standing for its country)."""
    return frozenset(_country_of(term, lexicon) for term in analysis.terms) & lexicon.neighbour_keys


def _border_conflict(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> Conflict | None:
    """Each claim speaks of Belarus's border with another of its neighbours, and the two name no neighbour
    in common anywhere ("Kyiv decided to expand the mined strip along the borders with Belarus and Russia"
    is of Ukraine's borders: Russia is the other one)."""
    if _BORDER not in new.terms or _BORDER not in base.terms:
        return None  # most pairs: one of them speaks of no border
    new_borders = _borders(new, lexicon)
    if not new_borders:
        return None  # no country named beside the border
    base_borders = _borders(base, lexicon)
    if base_borders and not _neighbours(new, lexicon) & _neighbours(base, lexicon):
        return Conflict("border", ", ".join(new_borders.values()), ", ".join(base_borders.values()))
    return None


@lru_cache(maxsize=4096)
def _events(analysis: ClaimAnalysis, lexicon: Lexicon) -> frozenset[str]:
    return frozenset(analysis.terms) & lexicon.event_keys


def conflicts(lexicon: Lexicon, new: ClaimAnalysis, base: ClaimAnalysis) -> list[Conflict]:
    """Where the parts of the two claims disagree (none when they agree or say too little to tell)."""
    found: list[Conflict] = []
    new_systems, base_systems = _keys_in(new, lexicon.system_keys), _keys_in(base, lexicon.system_keys)
    if new_systems and base_systems and not new_systems.keys() & base_systems.keys():
        found.append(Conflict("system", ", ".join(new_systems.values()), ", ".join(base_systems.values())))
    elif new_systems and not base_systems:
        # "tactical nuclear weapons" against a claim about troops: the new claim is about a weapon the
        # baseline claim does not speak of, not even by its kind (MiG-31K jets are "military aviation").
        base_terms = set(base.terms)
        unspoken = [s for key, s in new_systems.items() if lexicon.system_classes.get(key) not in base_terms]
        if unspoken and len(unspoken) == len(new_systems):
            found.append(Conflict("unnamed system", ", ".join(unspoken), ""))
    base_actors = _keys_in(base, lexicon.actor_keys)
    for key, surface in _keys_in(new, lexicon.actor_keys).items():
        if key not in base_actors:
            found.append(Conflict("actor", surface, ""))
            break
    event = (
        _event_conflict(lexicon, new, base) or _family_conflict(lexicon, new, base) or _membership_conflict(new, base)
    )
    if event is not None:
        found.append(event)
    target = _target_conflict(lexicon, new, base)
    if target is not None:
        found.append(target)
    site = _site_conflict(lexicon, new, base)
    if site is not None:
        found.append(site)
    border = _border_conflict(lexicon, new, base)
    if border is not None:
        found.append(border)
    visit = None if event is not None else _visit_conflict(lexicon, new, base)
    if visit is not None:
        found.append(visit)
    counted = _count_conflict(lexicon, new, base)
    if counted is not None:
        found.append(counted)
    else:  # a count of another nation's forces is that conflict already
        forces = _forces_conflict(lexicon, new, base)
        if forces is not None:
            found.append(forces)
    if not found:
        # Another agent is what the other conflicts often tell already (another nation's forces, another
        # neighbour's border): counted only where they find nothing, so that one difference costs one
        # penalty.
        agent = _agent_conflict(lexicon, new, base)
        if agent is not None:
            found.append(agent)
    return found
