"""The matcher's lexicon: name variants, synonyms, antonyms and cue words, read from TOML.

The bundled `lexicon.toml` is the default; `load_lexicon(path)` merges a user's file over it, so users
add variants without copying ours. Every entry is folded and stemmed once, here, with the same
functions the matcher applies to claims, so entries and claims always compare alike.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.errors import InputError
from monitor.matching.text import fold_text, stem, word_tokens

Phrase = tuple[str, ...]


class LexiconError(InputError):
    """A lexicon file that cannot be read or has the wrong shape; the message names the file and key."""


# A variant or cue ending in this matches any one word that starts with what comes before it: Russian,
# Ukrainian and Belarusian inflect names and nouns by their endings ("беларус*" is Беларусь, Беларуси,
# Беларусью...), which one stemmer cannot undo for three languages.
PREFIX_MARK = "*"
# Prefixes shorter than this would match too much ("во*" is every other word).
MIN_PREFIX = 3


@dataclass(frozen=True)
class PhraseSet:
    """Phrases (stem sequences) with a value each, found in a stem sequence by longest match first, and
    single-word prefixes (see `PREFIX_MARK`) tried on the folded words where no phrase matches."""

    values: Mapping[Phrase, str]
    longest: int
    stemmed: bool = True  # phrases are stem sequences (else folded words, matched exactly)
    prefixes: Mapping[str, str] = field(default_factory=dict)
    prefix_lengths: tuple[int, ...] = ()
    # The first stem of every phrase, and the first MIN_PREFIX letters of every prefix: most words of a
    # claim start nothing, and `find` passes them after one set lookup (it runs for every claim analysed,
    # baseline claims included, and for every cue set: a large part of matching's time).
    starts: frozenset[str] = field(init=False, repr=False)
    prefix_heads: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", frozenset(phrase[0] for phrase in self.values))
        object.__setattr__(self, "prefix_heads", frozenset(prefix[:MIN_PREFIX] for prefix in self.prefixes))

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]], *, stemmed: bool = True) -> PhraseSet:
        values: dict[Phrase, str] = {}
        prefixes: dict[str, str] = {}
        for text, value in entries:
            if text.endswith(PREFIX_MARK):
                prefix = fold_text(text[: -len(PREFIX_MARK)])
                if len(prefix) >= MIN_PREFIX and " " not in prefix:
                    prefixes.setdefault(prefix, value)
                continue
            words = word_tokens(fold_text(text))
            phrase = tuple(stem(word) for word in words) if stemmed else tuple(words)
            if phrase:
                values.setdefault(phrase, value)
        lengths = tuple(sorted({len(prefix) for prefix in prefixes}, reverse=True))
        return cls(values, max((len(p) for p in values), default=0), stemmed, prefixes, lengths)

    def find(self, stems: Sequence[str], words: Sequence[str] | None = None) -> Iterator[tuple[int, int, str]]:
        """Yield (start, end, value) for non-overlapping matches, left to right, longest first.

        `stems` are stems for a stemmed set, folded words otherwise; `words`, the folded words (for the
        prefixes of a stemmed set; an unstemmed set reads them from `stems`)."""
        index = 0
        total = len(stems)
        surface = stems if words is None or not self.stemmed else words
        while index < total:
            found = self._longest_at(stems, index) if stems[index] in self.starts else None
            if found is not None:
                size, value = found
                yield index, index + size, value
                index += size
                continue
            prefixed = self._prefix_value(surface[index]) if self.prefixes else None
            if prefixed is not None:
                yield index, index + 1, prefixed
            index += 1

    def _longest_at(self, stems: Sequence[str], index: int) -> tuple[int, str] | None:
        """The longest phrase starting at `index` (its length and value), or None."""
        for size in range(min(self.longest, len(stems) - index), 0, -1):
            value = self.values.get(tuple(stems[index : index + size]))
            if value is not None:
                return size, value
        return None

    def _prefix_value(self, word: str) -> str | None:
        if word[:MIN_PREFIX] not in self.prefix_heads:
            return None
        for length in self.prefix_lengths:
            if len(word) > length or (len(word) == length and length >= MIN_PREFIX):
                value = self.prefixes.get(word[:length])
                if value is not None:
                    return value
        return None

    def __contains__(self, phrase: object) -> bool:
        return phrase in self.values


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: matching caches results per lexicon
class Lexicon:
    """Everything the matcher knows about words, as folded and stemmed lookup tables."""

    variants: PhraseSet  # any spelling or synonym -> its canonical key
    entity_keys: frozenset[str]  # canonical keys that name entities (people, places, weapons)
    antonyms: Mapping[str, frozenset[str]]  # canonical key -> keys of its opposites
    antonym_phrases: PhraseSet  # antonym words and phrases -> canonical key
    negation: PhraseSet
    negation_backward: frozenset[str]  # folded negations whose scope reaches back too ("угрозы нет")
    negative_words: PhraseSet
    not_cues: PhraseSet  # phrases that contain a cue word but are no cue ("false flag")
    refutation: PhraseSet
    cessation: PhraseSet  # verbs that end the verb after them ("stopped pressuring"): see `verdict`
    planned: PhraseSet
    done: PhraseSet
    proposed: PhraseSet  # a proposal or possibility, not yet decided
    decided: PhraseSet  # a decision or definite future
    open_question: PhraseSet  # the claim says something is not known ("it remains unclear who...")
    hedged: PhraseSet  # reported, alleged, unclear: not established
    official: PhraseSet  # an official act or statement that establishes it
    anew: PhraseSet  # something happening again or for the first time
    saying: frozenset[str]  # folded words of saying: "said again" is a statement made again, not an event
    later: PhraseSet  # the claim tells a later state than before
    now_cues: PhraseSet  # the claim tells what holds now ("has now formed"), against what held before
    # Every cue by which a claim takes a stance on a proposition (negation, negative words, refutation,
    # hedges, open questions), in one set: `BaselineIndex.novelty` leaves their words out.
    stance: PhraseSet
    relative_words: frozenset[str]  # folded relative pronouns ("which", "who", "который"...)
    coordinators: frozenset[str]  # folded words that join a second predicate to the first ("and", "и")
    background: frozenset[str]  # folded words opening a phrase that sets a claim's time or cause ("after")
    unsaid: frozenset[str]  # folded phrases opening what a claim leaves unsaid ("without saying")
    pronouns: frozenset[str]  # folded personal and demonstrative pronouns that can be a claim's subject
    connectives: frozenset[str]  # folded words a sentence may open with before its subject ("but")
    stages: tuple[tuple[str, str], ...]
    planned_stages: tuple[tuple[str, str], ...]  # stage pairs whose early side must still be planned
    stopwords: frozenset[str]  # stems
    # Keys of the entities that say which proposition a claim is about, for `alignment`: weapon systems
    # (Pantsir is not S-400) and armed groups (Wagner fighters are not Russian troops).
    system_keys: frozenset[str] = frozenset()
    concept_keys: frozenset[str] = frozenset()
    system_classes: Mapping[str, str] = field(
        default_factory=dict
    )  # system key -> the concept of its kind  # keys of the [synonyms] groups: what claims assert
    actor_keys: frozenset[str] = frozenset()
    # Concepts that name what happened (fired, deployed), and those of them that are events of their own
    # (intercepted), for `alignment`.
    event_keys: frozenset[str] = frozenset()
    distinct_events: frozenset[str] = frozenset()
    event_families: tuple[frozenset[str], ...] = ()  # events of one family are other events than another's
    # What someone does, not a thing or a place: the event kinds and `[events] acts` (join, mine...).
    act_keys: frozenset[str] = frozenset()
    # Keys and stems every article on this beat shares (Belarus, Russia, war, troops...): no evidence
    # that two claims say the same thing by themselves (see `BaselineIndex.beat_terms`).
    beat_keys: frozenset[str] = frozenset()
    # The beat's countries and capitals among them: no evidence at all, however many (see `[beat]`).
    country_keys: frozenset[str] = frozenset()
    # Words that say which way something moved (increase, fall): no more evidence beside the countries.
    direction_keys: frozenset[str] = frozenset()
    # The countries Belarus borders (Ukraine, Poland...): whose border with Belarus a claim speaks of.
    neighbour_keys: frozenset[str] = frozenset()
    # Words of warning and fear (warn, fears): how a proposition is regarded, not which one it is.
    attitude_keys: frozenset[str] = frozenset()
    # Names that stand for their country in this beat's writing (Lukashenko, Minsk -> Belarus).
    stands_for: Mapping[str, str] = field(default_factory=dict)
    source: tuple[str, ...] = field(default=())


def _read_toml(path: Path | None) -> dict[str, Any]:
    try:
        if path is None:
            text = resources.files("monitor.matching").joinpath("lexicon.toml").read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path or 'bundled lexicon.toml'}: cannot read the lexicon: {exc}") from None


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `extra` over `base`: tables merge key by key, lists are extended, scalars replaced."""
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            merged[key] = _merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = old + [item for item in value if item not in old]
        else:
            merged[key] = value
    return merged


def _strings(data: Mapping[str, Any], section: str, key: str, origin: str) -> list[str]:
    value = data.get(section, {}).get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LexiconError(f"{origin}: [{section}] {key} must be a list of strings")
    return value


def _pairs(data: Mapping[str, Any], section: str, key: str, origin: str) -> list[tuple[str, str]]:
    value = data.get(section, {}).get(key, [])
    pairs: list[tuple[str, str]] = []
    for item in value if isinstance(value, list) else [None]:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(w, str) for w in item)):
            raise LexiconError(f"{origin}: [{section}] {key} must be a list of [word, word] pairs")
        pairs.append((item[0], item[1]))
    return pairs


def _families(
    data: Mapping[str, Any], section: str, key: str, origin: str, canonical: Callable[[str], str]
) -> tuple[frozenset[str], ...]:
    value = data.get(section, {}).get(key, [])
    families: list[frozenset[str]] = []
    for item in value if isinstance(value, list) else [None]:
        if not (isinstance(item, list) and item and all(isinstance(word, str) for word in item)):
            raise LexiconError(f"{origin}: [{section}] {key} must be a list of lists of words")
        families.append(frozenset(canonical(word) for word in item))
    return tuple(families)


def _key(text: str) -> str:
    return " ".join(stem(word) for word in word_tokens(fold_text(text)))


# Sections of canonical keys with their variants; every one but [synonyms] names entities.
_VARIANT_SECTIONS = ("names", "systems", "actors", "synonyms")


def _variant_entries(data: Mapping[str, Any], origin: str) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """Every (variant, canonical key) pair, and the keys each section defines."""
    entries: list[tuple[str, str]] = []
    keys: dict[str, set[str]] = {section: set() for section in _VARIANT_SECTIONS}
    for section in _VARIANT_SECTIONS:
        for canonical, variants in data.get(section, {}).items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise LexiconError(f"{origin}: [{section}] {canonical} must be a list of strings")
            key = _key(canonical)
            keys[section].add(key)
            entries.append((canonical, key))
            entries.extend((variant, key) for variant in variants)
    return entries, keys


def _check_variant_stems(entries: Iterable[tuple[str, str]], stopwords: frozenset[str], origin: str) -> None:
    """A one-word variant is matched by its stem: one that stems to a stopword would turn every such word
    into its key ("downed" stems to "down": "down from 10,000" would be an interception)."""
    for text, key in entries:
        words = word_tokens(fold_text(text))
        if len(words) == 1 and not text.endswith(PREFIX_MARK) and stem(words[0]) in stopwords:
            raise LexiconError(
                f"{origin}: {text!r} (for {key!r}) stems to {stem(words[0])!r}, a stopword, so every "
                f"{stem(words[0])!r} would read as {key!r}; write {text + PREFIX_MARK!r} to match the word as written"
            )


def _system_classes(data: Mapping[str, Any], origin: str, canonical: Any) -> dict[str, str]:
    table = data.get("system_classes", {})
    if not isinstance(table, Mapping) or not all(isinstance(v, str) for v in table.values()):
        raise LexiconError(f"{origin}: [system_classes] must map systems to one kind each")
    return {canonical(system): canonical(kind) for system, kind in table.items()}


def _stands_for(data: Mapping[str, Any], origin: str, canonical: Any) -> dict[str, str]:
    table = data.get("stands_for", {})
    if not isinstance(table, Mapping) or not all(isinstance(v, str) for v in table.values()):
        raise LexiconError(f"{origin}: [stands_for] must map names to one country each")
    return {canonical(name): canonical(country) for name, country in table.items()}


# The cue lists that make up `Lexicon.stance`.
_STANCE_CUES = (
    ("polarity", "negation"),
    ("polarity", "negative_words"),
    ("polarity", "refutation"),
    ("polarity", "cessation"),
    ("status", "hedged"),
    ("status", "open_question"),
)


def build_lexicon(data: Mapping[str, Any], origin: str = "lexicon") -> Lexicon:
    """Build a `Lexicon` from parsed TOML data (the shape of the bundled `lexicon.toml`)."""
    variant_entries, section_keys = _variant_entries(data, origin)
    variants = PhraseSet.build(variant_entries)
    entity_keys = section_keys["names"] | section_keys["systems"] | section_keys["actors"]

    def canonical(text: str) -> str:
        stems = [stem(word) for word in word_tokens(fold_text(text))]
        return " ".join(value for _, _, value in variants.find(stems)) or " ".join(stems)

    opposites: dict[str, set[str]] = {}
    antonym_entries: list[tuple[str, str]] = []
    # Every word of one direction stands against every word of the other ([antonyms] up, down).
    directed = [
        (up, down)
        for up in _strings(data, "antonyms", "up", origin)
        for down in _strings(data, "antonyms", "down", origin)
    ]
    for left, right in _pairs(data, "antonyms", "pairs", origin) + directed:
        left_key, right_key = canonical(left), canonical(right)
        opposites.setdefault(left_key, set()).add(right_key)
        opposites.setdefault(right_key, set()).add(left_key)
        antonym_entries += [(left, left_key), (right, right_key)]
    stopwords = frozenset(stem(fold_text(word)) for word in _strings(data, "stopwords", "words", origin))
    _check_variant_stems(variant_entries, stopwords, origin)

    def cue_set(section: str, key: str) -> PhraseSet:
        # Cues are matched word for word: a stem would confuse "Denys" (a name) with "deny".
        entries = ((text, fold_text(text)) for text in _strings(data, section, key, origin))
        return PhraseSet.build(entries, stemmed=False)

    return Lexicon(
        variants=variants,
        entity_keys=frozenset(entity_keys),
        antonyms={key: frozenset(values) for key, values in opposites.items()},
        antonym_phrases=PhraseSet.build(antonym_entries),
        negation=cue_set("polarity", "negation"),
        negation_backward=frozenset(
            fold_text(word) for word in _strings(data, "polarity", "negation_backward", origin)
        ),
        negative_words=cue_set("polarity", "negative_words"),
        not_cues=cue_set("polarity", "not_cues"),
        refutation=cue_set("polarity", "refutation"),
        cessation=cue_set("polarity", "cessation"),
        planned=cue_set("status", "planned"),
        done=cue_set("status", "done"),
        proposed=cue_set("status", "proposed"),
        decided=cue_set("status", "decided"),
        open_question=cue_set("status", "open_question"),
        hedged=cue_set("status", "hedged"),
        official=cue_set("status", "official"),
        anew=cue_set("status", "anew"),
        saying=frozenset(fold_text(word) for word in _strings(data, "status", "saying", origin)),
        later=cue_set("status", "later"),
        now_cues=cue_set("status", "now"),
        stance=PhraseSet.build(
            ((text, fold_text(text)) for section, key in _STANCE_CUES for text in _strings(data, section, key, origin)),
            stemmed=False,
        ),
        relative_words=frozenset(fold_text(word) for word in _strings(data, "clauses", "relative", origin)),
        coordinators=frozenset(fold_text(word) for word in _strings(data, "clauses", "coordinators", origin)),
        background=frozenset(fold_text(word) for word in _strings(data, "clauses", "background", origin)),
        unsaid=frozenset(fold_text(phrase) for phrase in _strings(data, "clauses", "unsaid", origin)),
        pronouns=frozenset(fold_text(word) for word in _strings(data, "context", "pronouns", origin)),
        connectives=frozenset(fold_text(word) for word in _strings(data, "context", "connectives", origin)),
        stages=tuple((canonical(a), canonical(b)) for a, b in _pairs(data, "status", "stages", origin)),
        planned_stages=tuple((canonical(a), canonical(b)) for a, b in _pairs(data, "status", "planned_stages", origin)),
        stopwords=stopwords,
        system_keys=frozenset(section_keys["systems"]),
        concept_keys=frozenset(section_keys["synonyms"]),
        system_classes=_system_classes(data, origin, canonical),
        actor_keys=frozenset(section_keys["actors"]),
        event_keys=frozenset(canonical(word) for word in _strings(data, "events", "kinds", origin)),
        distinct_events=frozenset(canonical(word) for word in _strings(data, "events", "distinct", origin)),
        event_families=_families(data, "events", "families", origin, canonical),
        act_keys=frozenset(
            canonical(word) for key in ("kinds", "acts") for word in _strings(data, "events", key, origin)
        ),
        beat_keys=frozenset(canonical(word) for word in _strings(data, "beat", "words", origin)),
        country_keys=frozenset(canonical(word) for word in _strings(data, "beat", "countries", origin)),
        direction_keys=frozenset(canonical(word) for word in _strings(data, "beat", "directions", origin)),
        neighbour_keys=frozenset(canonical(word) for word in _strings(data, "beat", "neighbours", origin)),
        attitude_keys=frozenset(canonical(word) for word in _strings(data, "beat", "attitudes", origin)),
        stands_for=_stands_for(data, origin, canonical),
        source=(origin,),
    )


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The bundled lexicon, with the TOML file at `path` (if given) merged over it.

    Raises `LexiconError` for a file that cannot be read or parsed, or that has entries of the wrong shape.
    """
    data = _read_toml(None)
    origin = "bundled lexicon.toml"
    if path is not None:
        data = _merge(data, _read_toml(path))
        origin = str(path)
    return build_lexicon(data, origin)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The bundled lexicon, built once per process (it is immutable)."""
    return load_lexicon()
