"""A one-agent AutoGen app: reads OPENAI_API_KEY as the SDK does."""
import asyncio

from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.openai import OpenAIChatCompletionClient


async def main() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o-mini")  # key from the environment
    agent = AssistantAgent("assistant", model_client=client)
    result = await agent.run(task="Say hello in five words.")
    print(result.messages[-1].content)
    await client.close()


asyncio.run(main())
