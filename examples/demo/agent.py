"""The demo's app: a real AutoGen AssistantAgent on OpenAI's chat API.

Nothing in it knows about keyexec. OpenAIChatCompletionClient reads its key
and server the openai SDK's own way, from OPENAI_API_KEY and OPENAI_BASE_URL.

    python agent.py ["a task"]
"""

import asyncio
import sys
import warnings

from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.openai import OpenAIChatCompletionClient

# The demo's server answers for "gpt-4o-mini" where OpenAI names the dated
# snapshot, which AutoGen would warn about.
warnings.filterwarnings("ignore", message="Resolved model mismatch")


async def main(task):
    client = OpenAIChatCompletionClient(model="gpt-4o-mini")
    try:
        agent = AssistantAgent("assistant", model_client=client)
        result = await agent.run(task=task)
        print(f"assistant: {result.messages[-1].content}")
    finally:
        await client.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(" ".join(sys.argv[1:]) or "Say hello to the demo."))
    except Exception as e:  # the SDK's own error, as it words it
        sys.exit(f"agent.py failed: {type(e).__module__}.{type(e).__qualname__}: {e}")
