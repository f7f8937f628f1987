"""An app of keyexec's provider tests (cmd/keyexec/e2e_apps_providers_test.go).

It makes one chat call with the real openai client (or google-genai for
Gemini's own API), written the way an app for that provider writes it, and
prints one JSON line: {"ok": true, "reply": ...} or {"ok": false,
"error": {"type": ..., "status": ..., "message": ...}}.

    python compat_app.py CLIENT MODEL
        one call; exit 0 when it succeeded, 1 when the SDK raised.
    python compat_app.py batch < scenarios.json
        the same app without keyexec, for many scenarios in one process:
        [{"id", "client", "model", "env"}, ...] → {"id": result, ...}. Each
        scenario runs with os.environ replaced by its env; the SDKs read
        their variables when a client is built, so this is what
        `env -i ... python compat_app.py CLIENT MODEL` would do.

CLIENT:
    openai      openai.OpenAI(): OPENAI_API_KEY, OPENAI_BASE_URL
    groq        the openai client with GROQ_API_KEY at $GROQ_BASE_URL/openai/v1
    together    the openai client with TOGETHER_API_KEY at $TOGETHER_BASE_URL
    gemini      the openai client with GEMINI_API_KEY at
                $GOOGLE_GEMINI_BASE_URL/v1beta/openai/
    ollama      the openai client at http://$OLLAMA_HOST/v1 (any key)
    mistral, openrouter, xai, deepseek
                the openai client with MISTRAL_API_KEY, OPENROUTER_API_KEY,
                XAI_API_KEY or DEEPSEEK_API_KEY at APP_BASE_URL: these
                providers' SDKs read no base URL from the environment, so an
                app writes its base URL as a constant; APP_BASE_URL stands
                in for that constant
    genai       google.genai.Client(): GEMINI_API_KEY (or GOOGLE_API_KEY),
                GOOGLE_GEMINI_BASE_URL

Keys are read with os.environ.get, as apps do: a missing one reaches the SDK
as None and the SDK says what it says. Only failure speed is set: no
retries, a 10 s timeout. No key is ever printed.
"""

import json
import os
import sys
import warnings

PROMPT = "Say hello."
TIMEOUT = 10.0


def env(name, default=""):
    return os.environ.get(name, default)


def openai_client(api_key, base_url):
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=TIMEOUT)


def chat(client, model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}])
    return r.choices[0].message.content


CLIENTS = {
    "openai": lambda: openai_client(None, None),
    "groq": lambda: openai_client(os.environ.get("GROQ_API_KEY"), env("GROQ_BASE_URL", "https://api.groq.com") + "/openai/v1"),
    "together": lambda: openai_client(os.environ.get("TOGETHER_API_KEY"), env("TOGETHER_BASE_URL", "https://api.together.xyz/v1")),
    "gemini": lambda: openai_client(
        os.environ.get("GEMINI_API_KEY"),
        env("GOOGLE_GEMINI_BASE_URL", "https://generativelanguage.googleapis.com").rstrip("/") + "/v1beta/openai/",
    ),
    "ollama": lambda: openai_client("ollama", "http://" + env("OLLAMA_HOST", "127.0.0.1:11434") + "/v1"),
    "mistral": lambda: openai_client(os.environ.get("MISTRAL_API_KEY"), env("APP_BASE_URL", "https://api.mistral.ai/v1")),
    "openrouter": lambda: openai_client(os.environ.get("OPENROUTER_API_KEY"), env("APP_BASE_URL", "https://openrouter.ai/api/v1")),
    "xai": lambda: openai_client(os.environ.get("XAI_API_KEY"), env("APP_BASE_URL", "https://api.x.ai/v1")),
    "deepseek": lambda: openai_client(os.environ.get("DEEPSEEK_API_KEY"), env("APP_BASE_URL", "https://api.deepseek.com")),
}


def call_genai(model):
    from google import genai
    from google.genai import types

    client = genai.Client(http_options=types.HttpOptions(timeout=int(TIMEOUT * 1000)))
    return client.models.generate_content(model=model, contents=PROMPT).text


def call(client, model):
    try:
        if client == "genai":
            reply = call_genai(model)
        else:
            reply = chat(CLIENTS[client](), model)
        return {"ok": True, "reply": reply}
    except Exception as e:  # the SDK's failure is the result
        return {"ok": False, "error": describe(e)}


def describe(e):
    t = type(e)
    d = {"type": t.__module__ + "." + t.__qualname__, "message": str(e)[:1000]}
    for attr in ("status_code", "code"):  # openai, google-genai
        v = getattr(e, attr, None)
        if isinstance(v, int):
            d["status"] = v
    return d


def batch():
    import openai  # noqa: F401  imported once for every scenario
    from google import genai  # noqa: F401

    results = {}
    saved = dict(os.environ)
    for s in json.load(sys.stdin):
        os.environ.clear()
        os.environ.update(s["env"])
        try:
            results[s["id"]] = call(s["client"], s["model"])
        finally:
            os.environ.clear()
            os.environ.update(saved)
    json.dump(results, sys.stdout)


def main():
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    if args == ["batch"]:
        batch()
        return
    if len(args) == 2 and (args[0] in CLIENTS or args[0] == "genai"):
        result = call(*args)
        print(json.dumps(result), flush=True)
        sys.exit(0 if result["ok"] else 1)
    sys.exit("usage: compat_app.py CLIENT MODEL | compat_app.py batch < scenarios.json")


if __name__ == "__main__":
    main()
