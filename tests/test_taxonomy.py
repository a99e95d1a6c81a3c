import pandas as pd
import pytest
import yaml

from pipeline.errors import LabelError
from pipeline.taxonomy import TAXONOMY_FILE, load_taxonomy
from pipeline.training import load_labelled
from tests.conftest import SHARED, write_jsonl


def test_label_set_sizes_and_owners():
    taxonomy = load_taxonomy()
    assert len(taxonomy.ids("sector")) == 12
    assert len(taxonomy.ids("root_cause")) == 13
    assert taxonomy.ids("urgency") == ["critique", "haute", "normale", "basse"]
    assert taxonomy.owner("livraison") == "Logistique"
    assert all(taxonomy.owner(c) for c in taxonomy.ids("root_cause"))


@pytest.mark.skipif(not (SHARED / "taxonomy" / "taxonomy.yaml").exists(), reason="../shared/ is absent")
def test_ids_match_the_reference_taxonomy():
    reference = yaml.safe_load((SHARED / "taxonomy" / "taxonomy.yaml").read_text(encoding="utf-8"))
    ours = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    for head in ("sector", "root_cause", "urgency"):
        assert list(ours[head]) == list(reference[head])
    assert {k: v["owner"] for k, v in ours["root_cause"].items()} == {
        k: v["owner"] for k, v in reference["root_cause"].items()
    }


def test_unknown_label_names_the_row_and_the_label(tmp_path):
    rows = [
        {"id": "a1", "text": "Ma facture a doublé", "sector": "telecom", "root_cause": "facturation_prix", "urgency": "normale"},
        {"id": "a2", "text": "Colis jamais arrivé", "sector": "ecommerce", "root_cause": "colis_perdu", "urgency": "normale"},
    ]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(LabelError) as info:
        load_labelled(path, load_taxonomy())
    assert "a2" in str(info.value) and "colis_perdu" in str(info.value)


def test_unknown_label_in_csv_names_the_row(tmp_path):
    frame = pd.DataFrame({"text": ["Bonjour", "Panne"], "sector": ["telecom", "telecom"],
                          "root_cause": ["hors_sujet", "panne_service"], "urgency": ["basse", "urgentissime"]})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(LabelError, match="urgentissime") as info:
        load_labelled(path, load_taxonomy())
    assert "train.csv:3" in str(info.value)  # line 3 of the file: header + 2nd row
