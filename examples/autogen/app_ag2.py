"""An AG2 (autogen 0.2 line) app: one ConversableAgent on a config list.

The models come from OAI_CONFIG_LIST, read by LLMConfig.from_json as
config_list_from_json reads it: the variable holds the list as JSON or names
a file; unset, the file OAI_CONFIG_LIST in the working folder. The entries
hold references instead of keys (api_key: vault://…), so the app is started
through keyexec, which resolves them, proves each key with its entry's
model, and hands the resolved list as JSON in OAI_CONFIG_LIST.

    keyexec run -- python app_ag2.py ["a task"]
"""

import sys

from autogen import ConversableAgent, LLMConfig

TASK = "In one sentence: why should an app get its API key from keyexec?"


def main(task):
    llm_config = LLMConfig.from_json(env="OAI_CONFIG_LIST")
    agent = ConversableAgent(
        "assistant",
        llm_config=llm_config,
        system_message="You are a concise assistant.",
        human_input_mode="NEVER",
    )
    reply = agent.generate_reply(messages=[{"role": "user", "content": task}])
    print(reply if isinstance(reply, str) else reply["content"])


if __name__ == "__main__":
    try:
        main(" ".join(sys.argv[1:]) or TASK)
    except Exception as e:  # show the SDK's error as the SDK words it, without a traceback
        sys.exit(f"app_ag2.py: {type(e).__module__}.{type(e).__qualname__}: {e}")
