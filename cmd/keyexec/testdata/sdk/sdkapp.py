"""The app of keyexec's SDK end-to-end tests (cmd/keyexec/e2e_sdk_test.go).

It makes one real SDK call, as an app would, and prints what happened as
one JSON object: {"ok": true, "reply": ...} or {"ok": false, "error": ...}.

    python sdkapp.py run CLIENT MARKER
        The app itself, started by `keyexec run -- python sdkapp.py run …`
        or by hand. Its first act is to write MARKER, so a test can tell
        whether Python started at all; then its own stderr goes to
        MARKER.stderr, so that keyexec's stderr holds keyexec's lines only.
        Exit 0 when the call succeeded, 1 when the SDK raised.

    python sdkapp.py batch < scenarios.json
        The same app without keyexec, for many scenarios at once:
        [{"id": ..., "client": ..., "env": {...}, "dir": ...}, ...]. The SDKs
        are imported once (importing AutoGen and AG2 costs seconds), then
        each scenario runs in a forked process whose os.environ is exactly
        the scenario's env (cleared, then filled) and whose working folder
        is "dir", a few at a time. The SDKs read their variables when a
        client is built, not at import, so each fork does what
        `env -i ENV... python sdkapp.py run ...` would do.
        Prints {"versions": {package: version}, "results": {id: result}}.

CLIENT is one of: openai (openai.OpenAI), azure (openai.AzureOpenAI),
anthropic (anthropic.Anthropic), autogen-openai and autogen-azure (AutoGen
AssistantAgent with OpenAIChatCompletionClient or
AzureOpenAIChatCompletionClient), ag2 (AG2 ConversableAgent with the config
list of OAI_CONFIG_LIST). Every client reads its settings the SDK's own way
(environment variables, the config list); the code sets only what makes a
failure fast: no retries, a 10 s timeout.

A guard on sockets keeps every call on loopback: a name under .invalid
fails as an unknown host at once (RFC 6761), and any other host is refused
and reported in "guard", which fails the test.
"""

import gc
import json
import os
import sys

PROMPT = "Say hello."
TIMEOUT = 10.0

violations = []


def guard():
    # The apps' loopback guard (testdata/apps/guard), recording refusals.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps", "guard"))
    sys.dont_write_bytecode = True  # no __pycache__ in the repository
    import loopback_guard

    loopback_guard.install(violations.append)


def quiet():
    import warnings

    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.CRITICAL)


# The clients, each as an app writes it.


def call_openai():
    import openai

    client = openai.OpenAI(max_retries=0, timeout=TIMEOUT)
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
    return r.choices[0].message.content


def call_azure():
    import openai

    client = openai.AzureOpenAI(max_retries=0, timeout=TIMEOUT)
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
    return r.choices[0].message.content


def call_anthropic():
    import anthropic

    client = anthropic.Anthropic(max_retries=0, timeout=TIMEOUT)
    r = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": PROMPT}])
    return "".join(b.text for b in r.content if b.type == "text")


def autogen(model_client):
    import asyncio

    from autogen_agentchat.agents import AssistantAgent

    async def main():
        client = model_client()
        try:
            agent = AssistantAgent("assistant", model_client=client)
            result = await agent.run(task=PROMPT)
            return result.messages[-1].content
        finally:
            await client.close()

    return asyncio.run(main())


def call_autogen_openai():
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    return autogen(lambda: OpenAIChatCompletionClient(model="gpt-4o-mini", max_retries=0, timeout=TIMEOUT))


def call_autogen_azure():
    from autogen_ext.models.openai import AzureOpenAIChatCompletionClient

    return autogen(lambda: AzureOpenAIChatCompletionClient(
        model="gpt-4o-mini", azure_deployment="gpt-4o-mini", max_retries=0, timeout=TIMEOUT))


def call_ag2():
    from autogen import ConversableAgent, LLMConfig

    llm_config = LLMConfig.from_json(env="OAI_CONFIG_LIST")
    agent = ConversableAgent("assistant", llm_config=llm_config, human_input_mode="NEVER")
    reply = agent.generate_reply(messages=[{"role": "user", "content": PROMPT}])
    return reply if isinstance(reply, str) else (reply or {}).get("content")


CLIENTS = {
    "openai": call_openai,
    "azure": call_azure,
    "anthropic": call_anthropic,
    "autogen-openai": call_autogen_openai,
    "autogen-azure": call_autogen_azure,
    "ag2": call_ag2,
}

# What the batch imports before it forks: the SDKs and what their first
# call would import lazily (openai.resources alone is half a second).
PRELOAD = {
    "openai": ["openai", "openai.resources"],
    "azure": ["openai", "openai.resources", "openai.lib.azure"],
    "anthropic": ["anthropic", "anthropic.resources"],
    "autogen-openai": ["openai.resources", "autogen_agentchat.agents", "autogen_ext.models.openai"],
    "autogen-azure": ["openai.resources", "autogen_agentchat.agents", "autogen_ext.models.openai"],
    "ag2": ["openai.resources", "autogen"],
}


def name_of(cls):
    mod = cls.__module__
    return cls.__qualname__ if mod == "builtins" else mod + "." + cls.__qualname__


def describe(e):
    d = {
        "type": name_of(type(e)),
        "mro": [name_of(c) for c in type(e).__mro__],
        "message": str(e)[:2000],
    }
    status = getattr(e, "status_code", None)
    if isinstance(status, int):
        d["status"] = status
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = err.get("code") or err.get("type")
            if code is not None:
                d["code"] = str(code)
            if isinstance(err.get("message"), str):
                d["body_message"] = err["message"][:500]
    causes, c, seen = [], e.__cause__ or e.__context__, 0
    while c is not None and seen < 4:
        causes.append({"type": name_of(type(c)), "message": str(c)[:500]})
        c, seen = c.__cause__ or c.__context__, seen + 1
    if causes:
        d["causes"] = causes
    return d


def call(client):
    try:
        reply = CLIENTS[client]()
        return {"ok": True, "reply": reply, "guard": violations}
    except Exception as e:  # the SDK's failure is the result
        return {"ok": False, "error": describe(e), "guard": violations}


def forked(scenario):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.environ.clear()
            os.environ.update(scenario["env"])
            if scenario.get("dir"):
                os.chdir(scenario["dir"])
            out = json.dumps(call(scenario["client"])).encode()
        except BaseException as e:  # never let a child run the parent's loop
            out = json.dumps({"ok": False, "error": describe(e), "guard": violations, "harness": True}).encode()
        try:
            with os.fdopen(w, "wb") as f:
                f.write(out)
        finally:
            os._exit(0)
    os.close(w)
    return pid, r


def batch():
    scenarios = json.load(sys.stdin)
    for client in sorted({s["client"] for s in scenarios}):
        for mod in PRELOAD[client]:
            __import__(mod)
    # What the imports built stays shared with the forks: without freeze,
    # the first collection in each fork touches every object and so copies
    # the whole heap.
    gc.collect()
    gc.freeze()
    results = {}
    width = max(2, 2 * (os.cpu_count() or 1))
    for i in range(0, len(scenarios), width):
        running = [(s["id"], *forked(s)) for s in scenarios[i:i + width]]
        for sid, pid, r in running:
            with os.fdopen(r, "rb") as f:
                data = f.read()
            _, status = os.waitpid(pid, 0)
            try:
                results[sid] = json.loads(data)
            except ValueError:
                results[sid] = {"ok": False, "harness": True,
                                "error": {"type": "harness", "message": "scenario process ended with status %d" % status}}
    from importlib.metadata import version

    versions = {p: version(p) for p in ("openai", "anthropic", "autogen-agentchat", "autogen-ext", "ag2")}
    json.dump({"versions": versions, "results": results}, sys.stdout)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "run" and len(sys.argv) == 4:
        client, marker = sys.argv[2], sys.argv[3]
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        fd = os.open(marker + ".stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        quiet()
        guard()
        result = call(client)
        print(json.dumps(result), flush=True)
        sys.exit(0 if result["ok"] else 1)
    if mode == "batch":
        quiet()
        guard()
        batch()
        return
    sys.exit("usage: sdkapp.py run CLIENT MARKER | sdkapp.py batch < scenarios.json")


if __name__ == "__main__":
    main()
