"""llama.cpp's own OpenAI-compatible server for the bundled model, safe on CPUs with AMX.

    python -m ranker.llm_server [--model FILE] [--host 127.0.0.1] [--port 8000] [...]

This is ``python -m llama_cpp.server`` (from ``llama-cpp-python[server]``; every option of it
works) with three differences: the model defaults to the bundled Gemma 3 270M GGUF; its thread
count is ``ranker.llm.default_threads()`` (all cores but one); and on a CPU with Intel AMX the model
loads without llama.cpp's extra (AMX) weight buffers, whose matrix multiply crashes the process
there (see :func:`ranker.llm.without_amx_buffers`). Point the bot at it with
``PUNCHLINE_LLM_URL=http://127.0.0.1:8000``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ranker.llm import default_gguf_path, default_threads, without_amx_buffers


def server_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` with the bundled model and the thread count filled in where not given."""
    args = list(argv)
    if "--model" not in args:
        args = ["--model", str(default_gguf_path()), *args]
    if "--n_threads" not in args:
        args += ["--n_threads", str(default_threads())]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server until it is stopped."""
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *server_arguments(sys.argv[1:] if argv is None else argv)]
    with without_amx_buffers():
        serve()


if __name__ == "__main__":
    main()
