"""The score carried in a float32 tensor: rounded on the other ranks."""

import torch

from tests.bad_impls.lossy import lossy_adapter

Adapter = lossy_adapter(
    "score_float32",
    lambda fields: {"score": float(torch.tensor(fields["score"], dtype=torch.float32))},
)
