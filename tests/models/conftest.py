"""Tasks on real data (../shared/data, read in place — never copied) for runs on real models."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

ARC_FR = """
id: arc-fr
version: 1
title: ARC-Challenge en français (Okapi)
language: fr
license: CC-BY-NC-4.0
dataset:
  splits:
    validation: DATA/okapi_fr/m_arc_fr_validation.json
    test: DATA/okapi_fr/m_arc_fr_test.json
  format: json
  id_field: id
protocol:
  type: multiple_choice
  context: "Question : {{ instruction }}\\nRéponse :"
  choice_fields: [option_a, option_b, option_c, option_d]
  answer_field: answer
metrics: [acc, acc_norm, acc_norm_tokens]
"""

CROWS_FR = """
id: crows-pairs-fr
version: 1
title: CrowS-Pairs français
language: fr
license: CC-BY-SA-4.0
dataset:
  path: DATA/crows_pairs_fr/crows_pairs_FR_languagearc_contribution+210.tsv
  format: tsv
  slice_fields: [bias_type]
protocol:
  type: pairs
  first_field: sent_more
  second_field: sent_less
metrics: [first_preferred, loglik_diff]
"""


def write_task(folder: Path, body: str) -> Path:
    path = folder / "task.yaml"
    path.write_text(body.replace("DATA", str(DATA)), encoding="utf-8")
    return path


@pytest.fixture
def arc_task(tmp_path: Path) -> Path:
    return write_task(tmp_path, ARC_FR)


@pytest.fixture
def crows_task(tmp_path: Path) -> Path:
    return write_task(tmp_path, CROWS_FR)
