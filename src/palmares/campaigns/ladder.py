"""The Ladder as a feedback policy (``feedback: ladder``): Blum & Hardt, "The Ladder: A Reliable
Leaderboard for Machine Learning Competitions", ICML 2015 (``palmares.stats.ladder``).

A team's public score changes only when the Ladder accepts a new submission, i.e. when it beats
the team's best one significantly on the public part's items; what the team and the public board
see is the *released* score (rounded as the Ladder rounds it), never a submission's exact score.
Probing the public items one label at a time then moves nothing.

* parameter-free (the phase's ``ladder_step`` is None): accept iff the per-item improvement
  ``d`` over the best submission has ``mean(d) > std(d)/√n`` (a one-sided paired test); needs
  per-item scores, i.e. a mean primary metric. With a corpus primary metric (F1, BLEU), which
  has none, the step is the bootstrap standard error of the new score (from its stored
  replicates): an unpaired version of the same one-standard-error rule;
* fixed step η (``ladder_step``, Algorithm 1): accept iff the exact score beats the released one
  by more than η; release it rounded to a multiple of η.

The decision is made in the worker's scoring transaction (the team's row is locked first, so two
workers decide one team's submissions one after the other), kept on the submission's score row
(``ScoreRecord.ladder``) and in the team's :class:`LadderState`, and written to the audit event
of the scoring. The private part is not affected: it ranks each team's latest submission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from palmares.campaigns.leaderboard import higher_is_better
from palmares.campaigns.scoring import Evidence, read_item_scores
from palmares.stats import ladder_step
from palmares.store import Phase, Submission, Team
from palmares.store.models import LadderState, ScoreEvidence


def decide(
    session: Session,
    submission: Submission,
    phase: Phase,
    public: Evidence | None,
    now: datetime,
) -> dict[str, Any] | None:
    """The Ladder's decision on a hidden-split submission whose public part is ``public``;
    updates the team's state. None when the submission cannot be ranked (no value)."""
    if public is None or public.value is None:
        return None
    session.execute(select(Team.id).where(Team.id == submission.team_id).with_for_update())
    key = (submission.team_id, phase.id, submission.campaign_task_id)
    state = session.get(LadderState, key)
    higher = higher_is_better(public.metric)
    released = None if state is None else state.released
    best_scores = None
    if state is not None and state.submission_id != submission.id:
        best = session.get(ScoreEvidence, (state.submission_id, "public"))
        if best is not None and best.items_digest == public.items_digest:
            best_scores = read_item_scores(best.items)
    step = phase.ladder_step
    if public.kind == "mean" and public.scores is not None:
        new = public.scores
        if step is None and released is not None and best_scores is None:
            # the best submission's evidence is gone (it is being rescored) or on other items:
            # start the team's Ladder again from this submission
            released = None
        if best_scores is not None and step is None:
            both = np.isfinite(new) & np.isfinite(best_scores)
            decision = ladder_step(new[both], best_scores[both], released, higher_is_better=higher)
        else:
            decision = ladder_step(
                new[np.isfinite(new)], None, released, higher_is_better=higher, step=step
            )
    else:  # a corpus metric: no per-item scores to pair
        if step is None:
            step = float(np.std(public.replicates, ddof=1))
        decision = ladder_step(
            np.array([public.value]), None, released, higher_is_better=higher, step=step
        )
    if state is None:
        state = LadderState(
            team_id=submission.team_id,
            phase_id=phase.id,
            campaign_task_id=submission.campaign_task_id,
            submission_id=submission.id,
            released=decision.released,
            precision=decision.precision,
            updated_at=now,
        )
        session.add(state)
    elif decision.updated:
        state.submission_id = submission.id
        state.released, state.precision, state.updated_at = (
            decision.released,
            decision.precision,
            now,
        )
    return {
        "accepted": decision.updated,
        "released": decision.released,
        "best": state.submission_id,
        "precision": decision.precision,
        "variant": "parameter-free" if phase.ladder_step is None else "fixed step",
    }
