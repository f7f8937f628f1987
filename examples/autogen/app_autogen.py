"""An AutoGen 0.4+ app: one AssistantAgent whose model client is a component.

The model client is described in model_config.yaml (in the working folder),
as AutoGen writes components: {provider, component_type, config}. That file
holds references instead of keys (api_key: vault://…), so the app is started
through keyexec, which resolves them, proves the key, and hands the resolved
component as JSON in AUTOGEN_MODEL_CONFIG. Without that variable the app
reads model_config.yaml itself, as AutoGen's samples do.

    keyexec run -- python app_autogen.py ["a task"]
"""

import asyncio
import json
import os
import sys

import yaml
from autogen_agentchat.agents import AssistantAgent
from autogen_core.models import ChatCompletionClient

TASK = "In one sentence: why should an app get its API key from keyexec?"


def model_config():
    """The model client component: from keyexec when it ran, else the file."""
    if os.environ.get("AUTOGEN_MODEL_CONFIG"):
        return json.loads(os.environ["AUTOGEN_MODEL_CONFIG"])
    with open("model_config.yaml") as f:
        return yaml.safe_load(f)


async def main(task):
    client = ChatCompletionClient.load_component(model_config())
    try:
        agent = AssistantAgent("assistant", model_client=client, system_message="You are a concise assistant.")
        result = await agent.run(task=task)
        print(result.messages[-1].content)
    finally:
        await client.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(" ".join(sys.argv[1:]) or TASK))
    except Exception as e:  # show the SDK's error as the SDK words it, without a traceback
        sys.exit(f"app_autogen.py: {type(e).__module__}.{type(e).__qualname__}: {e}")
