"""Prints the model names AutoGen's model clients know, from the pinned
autogen-ext, as JSON: keyexec's copy (verify/autogen_models.go) is compared
with it by TestAutoGenModelTablesMatchPinnedAutoGen."""
import json

from autogen_ext.models.anthropic import _model_info as anthropic_info
from autogen_ext.models.ollama import _model_info as ollama_info
from autogen_ext.models.openai import _model_info as openai_info

print(json.dumps({
    "openai": sorted(openai_info._MODEL_INFO),
    "openai_pointers": dict(sorted(openai_info._MODEL_POINTERS.items())),
    "anthropic": sorted(anthropic_info._MODEL_INFO),
    "ollama": sorted(ollama_info._MODEL_INFO),
}, indent=1))
