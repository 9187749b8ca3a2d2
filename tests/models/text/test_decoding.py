"""The lean sampling loop against transformers' own `generate`, and its stopping rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, StoppingCriteriaList

from models.text.decoding import CancelCriteria, logits_processors, sample, sampling_config


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> PreTrainedModel:
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


PROMPT = torch.tensor([[1, 3, 5, 20, 2, 1, 45]])


def test_greedy_matches_transformers_generate(model: PreTrainedModel) -> None:
    config = sampling_config(
        max_new_tokens=20, temperature=0.0, top_p=1.0, repetition_penalty=1.3, eos_token_ids=[]
    )
    ours = sample(model, PROMPT, config, seed=0)
    with torch.inference_mode():
        reference = model.generate(  # type: ignore[operator]  # transformers types `generate` loosely
            PROMPT, do_sample=False, max_new_tokens=20, repetition_penalty=1.3
        )
    assert ours.token_ids == reference[0, PROMPT.shape[1] :].tolist()
    assert ours.finish_reason == "length" and ours.tokens_per_s > 0 and 0 < ours.prefill_s <= ours.total_s


def test_sampling_depends_only_on_the_seed(model: PreTrainedModel) -> None:
    config = sampling_config(
        max_new_tokens=24, temperature=1.2, top_p=0.95, repetition_penalty=1.0, eos_token_ids=[]
    )
    torch.manual_seed(123)  # the global generator must not matter
    first = sample(model, PROMPT, config, seed=5).token_ids
    torch.manual_seed(456)
    assert sample(model, PROMPT, config, seed=5).token_ids == first
    assert sample(model, PROMPT, config, seed=6).token_ids != first


def test_stops_at_end_of_sequence_but_never_on_the_first_token(model: PreTrainedModel) -> None:
    greedy = sampling_config(
        max_new_tokens=12, temperature=0.0, top_p=1.0, repetition_penalty=1.0, eos_token_ids=[]
    )
    tokens = sample(model, PROMPT, greedy, seed=0).token_ids
    first, stop_at = tokens[0], tokens[3]
    with_eos = sampling_config(
        max_new_tokens=12, temperature=0.0, top_p=1.0, repetition_penalty=1.0, eos_token_ids=[first, stop_at]
    )
    result = sample(model, PROMPT, with_eos, seed=0)
    assert result.finish_reason == "eos"
    assert result.token_ids[0] != first  # the first token can not be an end token
    assert stop_at not in result.token_ids and first not in result.token_ids[1:]


def test_cancel_criteria_stops_after_the_current_token(model: PreTrainedModel) -> None:
    config = sampling_config(
        max_new_tokens=30, temperature=0.0, top_p=1.0, repetition_penalty=1.0, eos_token_ids=[]
    )
    seen: list[int] = []
    cancel = CancelCriteria(lambda: len(seen) >= 4)
    result = sample(
        model,
        PROMPT,
        config,
        seed=0,
        stopping=StoppingCriteriaList([cancel]),
        on_token=lambda ids: seen.append(len(ids)),
    )
    assert cancel.triggered and result.finish_reason == "stopped"
    assert len(result.token_ids) == 4 and seen == [1, 2, 3, 4]


def test_greedy_config_has_no_sampling_warpers() -> None:
    greedy = sampling_config(
        max_new_tokens=5, temperature=0.0, top_p=0.5, repetition_penalty=1.0, eos_token_ids=[2]
    )
    assert greedy.do_sample is False and len(logits_processors(greedy)) == 0
    sampled = sampling_config(
        max_new_tokens=5, temperature=0.7, top_p=0.9, repetition_penalty=1.1, eos_token_ids=[2]
    )
    assert sampled.do_sample is True and sampled.eos_token_id == [2]
    assert [type(p).__name__ for p in logits_processors(sampled)] == [
        "RepetitionPenaltyLogitsProcessor",
        "TemperatureLogitsWarper",
        "TopPLogitsWarper",
    ]


def test_rejects_a_batch_or_an_empty_prompt(model: PreTrainedModel) -> None:
    config = sampling_config(
        max_new_tokens=2, temperature=0.0, top_p=1.0, repetition_penalty=1.0, eos_token_ids=[]
    )
    with pytest.raises(ValueError):
        sample(model, torch.ones((2, 3), dtype=torch.long), config, seed=0)
    with pytest.raises(ValueError):
        sample(model, torch.ones((1, 0), dtype=torch.long), config, seed=0)
