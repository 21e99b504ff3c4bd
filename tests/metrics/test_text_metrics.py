"""Text metrics: answer normalisation, EM / token F1, chrF / BLEU (vs sacrebleu), ROUGE-L."""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from palmares.core import InputError
from palmares.metrics._data import TextData
from palmares.metrics.normalize import (
    is_french,
    normalize_answer,
    normalize_answer_en,
    normalize_answer_fr,
)
from palmares.metrics.qa import ExactMatch, TokenF1, token_f1_score
from palmares.metrics.rouge import RougeL, lcs_length, rouge_l_f1, tokenize
from palmares.metrics.translation import Bleu, Chrf, reference_streams

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
WMT = DATA / "wmt14_en_fr" / "newstest2014_en-fr.jsonl"
PIAF = DATA / "piaf" / "piaf-v1.0.json"


@pytest.fixture(scope="module")
def wmt() -> list[dict[str, str]]:
    with WMT.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == 3003
    return rows


# --------------------------------------------------------------------------- normalisation

FRENCH_CASES = [
    ("L'homme", "homme"),  # elision, ASCII apostrophe
    ("d’eau", "eau"),  # elision, typographic apostrophe
    ("l‘État", "état"),  # elision, U+2018 (autocorrect slip)
    ("« La Joconde »", "joconde"),  # guillemets and article
    ("«l’Élysée»", "élysée"),  # elision right after a guillemet
    ("aujourd'hui", "aujourd hui"),  # apostrophe inside a word: no elision
    ("jusqu’à Paris", "jusqu à paris"),  # qu' is not dropped, only split
    ("qu'il", "qu il"),
    ("Côte d'Ivoire", "côte ivoire"),
    ("les lesbiennes", "lesbiennes"),  # 'les' removed, 'lesbiennes' kept whole
    ("ledit contrat", "ledit contrat"),  # 'le' inside a word is kept
    ("Laval, Dupont, Delacroix", "laval dupont delacroix"),  # la / du / de inside names
    ("auparavant desquels", "auparavant desquels"),  # au / des inside words
    ("Aux Champs-Élysées", "champs élysées"),
    ("du pain, de la farine et des œufs", "pain farine et œufs"),
    ("Le 14 juillet 1789…", "14 juillet 1789"),
    ("là-bas", "là bas"),  # accented là is not the article la
    ("Où ?", "où"),  # accents kept: où (where) is not ou (or)
    ("ou", "ou"),
    ("e\u0301te\u0301", "été"),  # decomposed accents → NFC
    ("100\u00a0000", "100 000"),  # no-break space of French numbers
    ("14,2 milliards d'euros", "14 2 milliards euros"),
    ("Jean-Paul Sartre—philosophe – écrivain", "jean paul sartre philosophe écrivain"),
    ("un, une, des", ""),
    ("Un  éléphant\tbleu ", "éléphant bleu"),
    ("C’est-à-dire", "c est à dire"),  # c' is not an article
    ("De Gaulle", "gaulle"),  # the rule is blind to names: same on both sides
    ("50 %", "50"),
    ("(l’Académie française)", "académie française"),
]


@pytest.mark.parametrize(("text", "expected"), FRENCH_CASES)
def test_french_normalisation(text: str, expected: str) -> None:
    assert normalize_answer_fr(text) == expected
    assert normalize_answer(text, "fr") == expected
    assert normalize_answer(text, "fr-CA") == expected


def test_language_choice() -> None:
    assert is_french("fr") and is_french("FR_fr") and is_french("fra")
    assert not is_french("en") and not is_french("frr") and not is_french("de")
    assert normalize_answer("L'homme", "en") == "lhomme"  # SQuAD rule glues the pieces
    assert normalize_answer("L'homme", "de") == "lhomme"


def _official_v11_normalize(s: str) -> str:
    """Transcription of normalize_answer from the official SQuAD v1.1 evaluate script."""

    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _official_v11_f1(prediction: str, ground_truth: str) -> float:
    prediction_tokens = _official_v11_normalize(prediction).split()
    ground_truth_tokens = _official_v11_normalize(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


ENGLISH_STRINGS = [
    "The Eiffel Tower",
    "an apple a day",
    "Theatre of the Absurd",
    "U.S.A.",
    "don't stop",
    "  multiple   spaces\tand\ttabs ",
    "A",
    "THE END.",
    "Anne's anthem",
    "$1,000,000",
    "« French quotes » and — dashes",
    "café the crème",
]


def test_english_normalisation_is_squad_v11(wmt: list[dict[str, str]]) -> None:
    texts = ENGLISH_STRINGS + [r["en"] for r in wmt[:1000]]
    for text in texts:
        assert normalize_answer_en(text) == _official_v11_normalize(text)
        assert normalize_answer(text, "en") == _official_v11_normalize(text)


def test_english_f1_is_squad_v11(wmt: list[dict[str, str]]) -> None:
    rng = np.random.default_rng(7)
    sentences = [r["en"] for r in wmt[:400]]
    preds, refs = [], []
    for i, sentence in enumerate(sentences):
        words = sentence.split()
        start = int(rng.integers(0, max(1, len(words) - 3)))
        preds.append(" ".join(words[start : start + int(rng.integers(1, 6))]))
        refs.append([" ".join(words[:5]), sentences[(i + 1) % len(sentences)][:30]])
    data = TextData(refs=refs, preds=preds, language="en")
    expected_f1 = [
        max(_official_v11_f1(p, g) for g in gs) for p, gs in zip(preds, refs, strict=True)
    ]
    expected_em = [
        max(float(_official_v11_normalize(p) == _official_v11_normalize(g)) for g in gs)
        for p, gs in zip(preds, refs, strict=True)
    ]
    np.testing.assert_array_equal(TokenF1().item_scores(data), expected_f1)
    np.testing.assert_array_equal(ExactMatch().item_scores(data), expected_em)
    assert 0 < np.mean(expected_f1) < 1


# --------------------------------------------------------------------------- EM / token F1


def test_exact_match_hand_worked() -> None:
    data = TextData(
        refs=[
            ["l’Océan Atlantique"],
            ["Victor Hugo", "Hugo"],
            ["1789"],
            ["la tour Eiffel"],
            ["ou"],
            [],  # unanswerable: the empty answer is right
            [],
        ],
        preds=["Océan atlantique.", "hugo", "en 1789", "« Tour Eiffel »", "où", "", "Paris"],
        language="fr",
    )
    np.testing.assert_array_equal(ExactMatch().item_scores(data), [1, 1, 0, 1, 0, 1, 0])


def test_token_f1_hand_worked() -> None:
    data = TextData(
        refs=[
            ["Emmanuel Macron"],  # pred 'président macron': 1 common, P = R = 1/2
            ["le roi Louis XIV", "Louis XIV"],  # 'louis' vs best ref 'louis xiv': P 1, R 1/2
            ["la Seine"],  # 'seine' == 'seine'
            ["Paris"],  # no overlap
            ["les"],  # ref normalises to nothing, pred too → 1
            ["les"],  # ref empty, pred not → 0
            ["Jean-Paul Sartre"],  # 'sartre jean paul sartre' vs 'jean paul sartre'
        ],
        preds=[
            "le président Macron",
            "Louis",
            "Seine",
            "Lyon",
            "des",
            "Lyon",
            "Sartre, Jean-Paul Sartre",
        ],
        language="fr",
    )
    # last: pred tokens {sartre: 2, jean, paul}, ref {jean, paul, sartre}: common 3, P 3/4, R 1
    expected = [0.5, 2 / 3, 1.0, 0.0, 1.0, 0.0, 2 * 0.75 / 1.75]
    np.testing.assert_allclose(TokenF1().item_scores(data), expected, rtol=0, atol=1e-15)
    assert token_f1_score("the cat", "a cat", "en") == 1.0
    assert token_f1_score("", "", "en") == 1.0  # SQuAD v2 convention (v1.1 says 0)


def test_qa_length_mismatch() -> None:
    with pytest.raises(InputError):
        ExactMatch().item_scores(TextData(refs=[["a"]], preds=["a", "b"]))


# --------------------------------------------------------------------------- PIAF baseline


def _independent_fr_normalize(text: str) -> str:
    """A straightforward French normaliser written apart from the module (character scan)."""
    text = unicodedata.normalize("NFC", text).lower()
    apostrophes = {"'", "’", "‘", "ʼ"}
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        word_start = i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        if ch in "ld" and word_start and i + 1 < len(text) and text[i + 1] in apostrophes:
            i += 2
            continue
        is_punct = unicodedata.category(ch)[0] == "P" or ch in string.punctuation or ch == "ʼ"
        out.append(" " if is_punct else ch)
        i += 1
    articles = {"le", "la", "les", "un", "une", "des", "du", "de", "au", "aux"}
    return " ".join(w for w in "".join(out).split() if w not in articles)


def _independent_f1(pred: str, ref: str) -> float:
    p, r = _independent_fr_normalize(pred).split(), _independent_fr_normalize(ref).split()
    if not p or not r:
        return float(p == r)
    same = sum(min(p.count(w), r.count(w)) for w in set(p))
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(r)
    return 2 * precision * recall / (precision + recall)


def _piaf_baseline() -> tuple[list[str], list[list[str]]]:
    """Answer = first 3 tokens of the context sentence sharing most words with the question."""
    with PIAF.open(encoding="utf-8") as f:
        piaf = json.load(f)
    preds, refs = [], []
    for article in piaf["data"]:
        for paragraph in article["paragraphs"]:
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", paragraph["context"]) if s]
            bags = [set(re.findall(r"\w+", s.lower())) for s in sentences]
            for qa in paragraph["qas"]:
                question = set(re.findall(r"\w+", qa["question"].lower()))
                best = max(range(len(sentences)), key=lambda k: len(bags[k] & question))
                preds.append(" ".join(sentences[best].split()[:3]))
                refs.append([a["text"] for a in qa["answers"]])
    return preds, refs


def test_piaf_baseline_em_f1() -> None:
    preds, refs = _piaf_baseline()
    assert len(preds) == 3835
    data = TextData(refs=refs, preds=preds, language="fr")
    em = ExactMatch().item_scores(data)
    f1 = TokenF1().item_scores(data)
    expected_em = [
        max(float(_independent_fr_normalize(p) == _independent_fr_normalize(r)) for r in rs)
        for p, rs in zip(preds, refs, strict=True)
    ]
    expected_f1 = [
        max(_independent_f1(p, r) for r in rs) for p, rs in zip(preds, refs, strict=True)
    ]
    np.testing.assert_array_equal(em, expected_em)
    np.testing.assert_allclose(f1, expected_f1, rtol=0, atol=1e-12)
    # A weak baseline: some hits, far from a reader model (the print helps when it moves).
    print(f"PIAF first-3-tokens baseline: EM {em.mean():.4f}, F1 {f1.mean():.4f}")
    assert 0.001 < em.mean() < 0.05
    assert 0.02 < f1.mean() < 0.20
    assert f1.mean() > em.mean()
    # French rule matters on PIAF: the SQuAD English rule gives a different F1
    f1_en = TokenF1().item_scores(TextData(refs=refs, preds=preds, language="en"))
    assert not np.array_equal(f1, f1_en)
    # the gold answers themselves score 1
    gold = TextData(refs=refs, preds=[rs[0] for rs in refs], language="fr")
    assert ExactMatch().item_scores(gold).min() == 1.0
    assert TokenF1().item_scores(gold).min() == 1.0


# --------------------------------------------------------------------------- chrF / BLEU


def _copy_baseline(rows: list[dict[str, str]]) -> TextData:
    """en→fr 'translation' that copies the English source (shares names, numbers, cognates)."""
    return TextData(refs=[[r["fr"]] for r in rows], preds=[r["en"] for r in rows], language="fr")


@pytest.fixture(scope="module")
def copy_baseline(wmt: list[dict[str, str]]) -> tuple[TextData, dict[str, Bleu | Chrf]]:
    """The full copy baseline and one metric of each kind that has already seen it (the
    metrics keep the statistics of the last data, so each test does not extract them again)."""
    data = _copy_baseline(wmt)
    metrics: dict[str, Bleu | Chrf] = {"bleu": Bleu(), "chrf": Chrf()}
    for m in metrics.values():
        m.sufficient(data)
    return data, metrics


CORPUS_FNS: list[tuple[str, Callable[..., Any]]] = [
    ("bleu", sacrebleu.corpus_bleu),
    ("chrf", sacrebleu.corpus_chrf),
]


@pytest.mark.parametrize(("name", "corpus_fn"), CORPUS_FNS)
def test_corpus_value_equals_sacrebleu(
    name: str,
    corpus_fn: Callable[..., Any],
    wmt: list[dict[str, str]],
    copy_baseline: tuple[TextData, dict[str, Bleu | Chrf]],
) -> None:
    full, metrics = copy_baseline
    m = metrics[name]
    suff = m.sufficient(full)
    assert suff.n == 3003
    value = m.from_totals(suff.totals(), full)
    assert value.shape == (1, 1)
    expected = corpus_fn(full.preds, [[r[0] for r in full.refs]]).score
    assert abs(value[0, 0] - expected) < 1e-9
    assert 0 < expected < 60
    # a seeded random subset, extracted afresh
    rng = np.random.default_rng(2014)
    chosen = sorted(rng.choice(len(wmt), size=400, replace=False))
    subset = _copy_baseline([wmt[i] for i in chosen])
    sub = type(m)()
    value = sub.from_totals(sub.sufficient(subset).totals(), subset)
    expected = corpus_fn(subset.preds, [[r[0] for r in subset.refs]]).score
    assert abs(value[0, 0] - expected) < 1e-9
    # per-segment statistics do not depend on the other segments
    np.testing.assert_array_equal(sub.sufficient(subset).table, suff.table[chosen])


@pytest.mark.parametrize(("name", "corpus_fn"), CORPUS_FNS)
def test_totals_of_bootstrap_resamples(
    name: str,
    corpus_fn: Callable[..., Any],
    copy_baseline: tuple[TextData, dict[str, Bleu | Chrf]],
) -> None:
    data, metrics = copy_baseline
    m = metrics[name]
    table = m.sufficient(data).table
    n = len(data)
    rng = np.random.default_rng(11)
    # a full-size resample, a smaller one, and a tiny one (orders without matches)
    resamples = [rng.integers(0, n, size=size) for size in (n, 500, 25)]
    # all resamples in one vectorised call: row b = sum of the resampled items' statistics
    counts = np.stack([np.bincount(idx, minlength=n) for idx in resamples]).astype(np.float64)
    values = m.from_totals(counts @ table, data)
    assert values.shape == (len(resamples), 1)
    for idx, value in zip(resamples, values[:, 0], strict=True):
        preds = [data.preds[i] for i in idx]
        refs = [data.refs[i][0] for i in idx]
        assert abs(value - corpus_fn(preds, [refs]).score) < 1e-9
    # the bootstrap's call: 1,000 rows at once, row by row equal to the one-row calls
    big = np.repeat(counts @ table, [400, 300, 300], axis=0)
    out = m.from_totals(big, data)
    assert out.shape == (1000, 1)
    np.testing.assert_array_equal(out[[0, 400, 700], 0], values[:, 0])


def test_bleu_edge_rows_match_sacrebleu() -> None:
    """Rows with empty orders, no matches, short output: the vectorised formula vs compute_bleu."""
    rows = np.array(
        [
            [3, 5, 2, 1, 0, 0, 3, 2, 1, 0],  # no 4-grams: log floor → 0
            [6, 5, 4, 2, 0, 0, 6, 5, 4, 3],  # zero matches at n = 3, 4: mteval smoothing
            [0, 4, 0, 0, 0, 0, 0, 0, 0, 0],  # empty hypothesis
            [5, 5, 0, 0, 0, 0, 5, 4, 3, 2],  # nothing matches
            [10, 20, 8, 5, 3, 1, 10, 9, 8, 7],  # brevity penalty
            [12, 10, 12, 11, 10, 9, 12, 11, 10, 9],
        ],
        dtype=np.float64,
    )
    from palmares.metrics.translation import bleu_from_stats

    for effective in (False, True):
        got = bleu_from_stats(rows, effective_order=effective)
        for row, value in zip(rows, got, strict=True):
            ref = BLEU(effective_order=effective)._compute_score_from_stats(
                row.astype(int).tolist()
            )
            assert abs(value - ref.score) < 1e-9


def test_item_scores_are_sentence_scores(wmt: list[dict[str, str]]) -> None:
    data = _copy_baseline(wmt[:300])
    bleu = Bleu().item_scores(data)
    chrf = Chrf().item_scores(data)
    for i, (pred, refs) in enumerate(zip(data.preds, data.refs, strict=True)):
        assert abs(bleu[i] - sacrebleu.sentence_bleu(pred, refs).score) < 1e-9
        assert abs(chrf[i] - sacrebleu.sentence_chrf(pred, refs).score) < 1e-9


def _multi_reference_data(rows: list[dict[str, str]]) -> TextData:
    """1 to 3 references per item: the French one, a truncated one, and the English source."""
    refs: list[list[str]] = []
    for i, r in enumerate(rows):
        item = [r["fr"]]
        if i % 3 >= 1:
            item.append(" ".join(r["fr"].split()[: max(1, len(r["fr"].split()) // 2)]))
        if i % 3 == 2:
            item.append(r["en"])
        refs.append(item)
    preds = [r["en"] if i % 2 else r["fr"][: len(r["fr"]) // 2] for i, r in enumerate(rows)]
    return TextData(refs=refs, preds=preds, language="fr")


@pytest.mark.parametrize(("metric", "sacre"), [(Bleu, BLEU), (Chrf, CHRF)])
def test_multiple_references(
    metric: type[Bleu | Chrf], sacre: type[BLEU | CHRF], wmt: list[dict[str, str]]
) -> None:
    data = _multi_reference_data(wmt[:600])
    m = metric()
    value = m.from_totals(m.sufficient(data).totals(), data)[0, 0]
    # 1. sacrebleu's own corpus API on None-padded streams
    streams = reference_streams(data.refs)
    assert len(streams) == 3 and streams[2][0] is None and streams[2][2] is not None
    # sacrebleu's annotation says str, its code drops None (variable reference counts)
    direct = sacre().corpus_score(data.preds, streams).score  # type: ignore[arg-type]
    assert abs(value - direct) < 1e-9
    # 2. without padding: each segment scored against exactly its own references
    per_segment = [
        sacre()._extract_corpus_statistics([p], [[r] for r in refs])[0]
        for p, refs in zip(data.preds, data.refs, strict=True)
    ]
    summed = np.sum(np.asarray(per_segment, dtype=np.float64), axis=0).tolist()
    assert abs(value - sacre()._compute_score_from_stats(summed).score) < 1e-9
    # 3. for BLEU, padding with "" instead of None would change the score: an empty reference
    # counts (its length 0 can be the closest reference length)
    if metric is Bleu:
        blank = [[s if s is not None else "" for s in stream] for stream in streams]
        assert abs(sacre().corpus_score(data.preds, blank).score - direct) > 1e-6


def test_translation_needs_references() -> None:
    with pytest.raises(InputError):
        Bleu().sufficient(TextData(refs=[["a"], []], preds=["a", "b"]))
    empty = TextData(refs=[], preds=[])
    assert Chrf().sufficient(empty).table.shape == (0, 18)


# --------------------------------------------------------------------------- ROUGE-L


def _dp_lcs(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def test_lcs_matches_plain_dp() -> None:
    rng = np.random.default_rng(3)
    vocab = list("abcdef")
    for _ in range(300):
        a = [vocab[k] for k in rng.integers(0, 6, size=int(rng.integers(0, 90)))]
        b = [vocab[k] for k in rng.integers(0, 6, size=int(rng.integers(0, 90)))]
        assert lcs_length(a, b) == _dp_lcs(a, b)


class _OurTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return tokenize(text)


def _rouge_case(sentences: list[str], seed: int) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    preds, refs = [], []
    for i, sentence in enumerate(sentences):
        kept = [w for w in sentence.split() if rng.random() < 0.7]
        preds.append(" ".join(kept) if i % 4 else sentences[(i + 7) % len(sentences)])
        refs.append([sentence] if i % 5 else [sentence, sentences[(i + 1) % len(sentences)]])
    return preds, refs


def _rouge_score_package(
    preds: list[str], refs: list[list[str]], scorer: rouge_scorer.RougeScorer
) -> list[float]:
    return [
        scorer.score_multi(rs, p)["rougeL"].fmeasure
        if len(rs) > 1
        else scorer.score(rs[0], p)["rougeL"].fmeasure
        for p, rs in zip(preds, refs, strict=True)
    ]


def test_rouge_l_matches_rouge_score_on_ascii(wmt: list[dict[str, str]]) -> None:
    english = [r["en"] for r in wmt if r["en"].isascii()][:500]
    assert len(english) == 500
    preds, refs = _rouge_case(english, seed=5)
    got = RougeL().item_scores(TextData(refs=refs, preds=preds, language="en"))
    expected = _rouge_score_package(preds, refs, rouge_scorer.RougeScorer(["rougeL"]))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert rouge_l_f1([], ["a"]) == 0.0 and rouge_l_f1([], []) == 0.0


def test_rouge_l_beyond_ascii_differs_only_by_tokeniser(wmt: list[dict[str, str]]) -> None:
    """On French, rouge-score given our tokeniser agrees; its own tokeniser does not."""
    french = [r["fr"] for r in wmt[:400]]
    preds, refs = _rouge_case(french, seed=6)
    got = RougeL().item_scores(TextData(refs=refs, preds=preds, language="fr"))
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_OurTokenizer())
    np.testing.assert_allclose(got, _rouge_score_package(preds, refs, scorer), atol=1e-12)
    default = _rouge_score_package(preds, refs, rouge_scorer.RougeScorer(["rougeL"]))
    assert not np.allclose(got, default)


def test_rouge_tokenizer_keeps_french_letters() -> None:
    assert tokenize("L’élève a mangé 2 crêpes.") == ["l", "élève", "a", "mangé", "2", "crêpes"]
    assert tokenize("snake_case, ASCII-only!") == ["snake", "case", "ascii", "only"]
    data = TextData(refs=[["l'élève est là"]], preds=["L’élève est là !"], language="fr")
    assert RougeL().item_scores(data)[0] == 1.0
    # rouge-score's own tokenizer cuts accented letters out: 'pêcheur' (fisherman) and
    # 'pécheur' (sinner) both become ['p', 'cheur'] there (why the module has its own)
    assert rouge_scorer.RougeScorer(["rougeL"]).score("pêcheur", "pécheur")["rougeL"].fmeasure == 1
    assert rouge_l_f1(tokenize("pécheur"), tokenize("pêcheur")) == 0
