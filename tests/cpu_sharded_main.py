"""``lintseq`` under accelerate's FSDP2 or DeepSpeed on CPU processes (gloo), for tests.

Run as ``ACCELERATE_USE_CPU=true LINTSEQ_TEST_SHARDING=fsdp|deepspeed torchrun --nproc_per_node N
tests/cpu_sharded_main.py train ...``. accelerate only turns these backends on for GPU-like
devices, while torch's FSDP2 (and DeepSpeed's CPU accelerator) run on CPU with gloo; this entry
point sets accelerate's shared state to the backend before ``lintseq`` creates its Accelerator,
so the real training code goes through accelerate's own preparation, sharding, gradient
reduction and state-dict gathering for that backend.
"""

import os
import sys

from accelerate.state import AcceleratorState, PartialState
from accelerate.utils import DistributedType, TorchDynamoPlugin

kind = os.environ["LINTSEQ_TEST_SHARDING"]
state = AcceleratorState(cpu=True, dynamo_plugin=TorchDynamoPlugin(), _from_accelerator=True)
assert state.num_processes > 1, "run under torchrun --nproc_per_node >= 2 with ACCELERATE_USE_CPU=true"
if kind == "fsdp":
    from accelerate.utils import FullyShardedDataParallelPlugin

    state.distributed_type = DistributedType.FSDP
    state.fsdp_plugin = FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="transformer_based_wrap",
                                                       reshard_after_forward=True, state_dict_type="FULL_STATE_DICT")
elif kind == "deepspeed":
    import deepspeed
    from accelerate.utils import DeepSpeedPlugin

    deepspeed.init_distributed(dist_backend="gloo")
    plugin = DeepSpeedPlugin(zero_stage=3, zero3_init_flag=False, zero3_save_16bit_model=True,
                             offload_optimizer_device="none", offload_param_device="none")
    plugin.deepspeed_config.setdefault("bf16", {"enabled": False})
    state.distributed_type = DistributedType.DEEPSPEED
    state.deepspeed_plugins = {"default": plugin}
    plugin.select(_from_accelerator_state=True)
else:
    raise SystemExit(f"LINTSEQ_TEST_SHARDING={kind!r}: fsdp or deepspeed")

# AcceleratorState copies PartialState's fields on every construction: set the type on both
PartialState._shared_state["distributed_type"] = state.distributed_type

from lintseq.cli import main  # noqa: E402  (after the state is set)

if kind == "deepspeed" and state.process_index == 0:  # the config DeepSpeed ran with, for the test to read
    import atexit
    import json

    atexit.register(lambda: print("DEEPSPEED_CONFIG " + json.dumps(plugin.deepspeed_config, default=str)))
sys.exit(main())
