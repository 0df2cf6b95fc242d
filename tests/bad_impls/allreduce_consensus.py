"""The code before the fix: unanimous consensus by all_reduce(MIN); one failing rank vetoes."""

import dataclasses

import torch
import torch.distributed as dist

from reference_impl.slot import SeedSlot
from tests.bad_impls.common import adapter_for, distributed


class ConsensusSlot(SeedSlot):
    def _sync_gate_decision(self, result, identity):
        if not distributed():
            return result
        vote = torch.tensor([1 if result.passed else 0])
        dist.all_reduce(vote, op=dist.ReduceOp.MIN)
        if result.passed and not vote.item():
            return dataclasses.replace(
                result,
                passed=False,
                checks_failed=[*result.checks_failed, "ddp_veto"],
                message=result.message + " (Vetoed by DDP consensus)",
            )
        return result


Adapter = adapter_for(ConsensusSlot, "allreduce_consensus")
