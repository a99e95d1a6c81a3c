"""The bundled corpus meets its contract: size, label coverage, taxonomy ids, no duplicates."""
from collections import Counter

from pipeline.taxonomy import HEADS, load_taxonomy
from tools.check_corpus import check
from tests.conftest import CORPUS


def test_corpus_is_valid_and_covers_every_label():
    rows, problems = check(sorted(CORPUS.glob("*.jsonl")))
    assert problems == []
    assert len(rows) >= 1500
    taxonomy = load_taxonomy()
    for head in HEADS:
        counts = Counter(r[head] for r in rows)
        assert set(counts) == set(taxonomy.ids(head)), head
        assert min(counts.values()) >= 30, (head, counts.most_common()[-1])


def test_corpus_has_personal_data_for_the_masking_to_find():
    import re

    rows, _ = check(sorted(CORPUS.glob("*.jsonl")))
    phones = sum(bool(re.search(r"0[67](?:[ .]?\d{2}){4}", r["text"])) for r in rows)
    emails = sum(bool(re.search(r"[\w.]+@[\w-]+\.\w+", r["text"])) for r in rows)
    assert phones >= 30 and emails >= 30
