"""Record the parity fixture for engine-nano (issue 3, item 6) on a machine with `transformers` and torch.

Loads a nano checkpoint with transformers' Qwen3ForCausalLM in float32 and writes, for a few fixed inputs,
the logits and the hidden states (embedding output + every block) to a JSON fixture that a CI test compares
with engine-nano (max abs diff <= 1e-4). Not run yet: no GPU/transformers machine was lent.

Usage: python scripts/parity_reference.py <checkpoint-dir> <fixture.json>
"""
import json
import sys

import torch
from transformers import AutoTokenizer, Qwen3ForCausalLM

directory, target = sys.argv[1], sys.argv[2]
model = Qwen3ForCausalLM.from_pretrained(directory, torch_dtype=torch.float32, attn_implementation="eager").eval()
tokenizer = AutoTokenizer.from_pretrained(directory)
texts = [
    "Hello, world!",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
    "Ünïcödé ✓ 数学",
]
records = []
with torch.no_grad():
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
        output = model(ids, output_hidden_states=True)
        records.append(
            {
                "text": text,
                "tokenIds": ids[0].tolist(),
                "logits": output.logits[0].tolist(),
                "hiddenStates": [state[0].tolist() for state in output.hidden_states],
            }
        )
with open(target, "w") as handle:
    json.dump({"checkpoint": directory, "records": records}, handle)
