"""``rnnkit view``'s web application (Starlette): the page, its static files, and a JSON API over the
runs it was given. Every request names a run by its number; nothing from the browser becomes a path.

    GET  /api/runs                               the runs, their tasks and the views each offers
    GET  /api/runs/{i}/metrics?after=N           metrics.jsonl records from N on (the page polls it)
    GET  /api/runs/{i}/examples                  texts to pick, from the run's own data
    POST /api/runs/{i}/cells       {text}        states of every unit, computed once per text: an id
    GET  /api/runs/{i}/cells/{id}/heat?kind=h    (units, T) uint8 of one state kind
    GET  /api/runs/{i}/cells/{id}/rank?property=quotes&kind=c
    GET  /api/runs/{i}/cells/{id}/match?start=&end=&threshold=&kind=
    POST /api/runs/{i}/generate    {text, options}   NDJSON, one line per token
    POST /api/runs/{i}/image       (image bytes)     an id for the generate and alignment views
    POST /api/runs/{i}/alignments  {text} | {image} | (WAV bytes)
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import time
from collections import OrderedDict
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rnnkit.errors import RnnkitError

MAX_UPLOAD = 5 * 1024 * 1024  # bytes of an image or a WAV
MAX_JSON = 2 * 1024 * 1024  # bytes of a JSON request (a text of 2 MB)
DRAIN = 64 * 1024 * 1024  # bytes read and dropped from a request over its limit
MAX_TOKENS = 100_000  # tokens of a text in the cells view: its heat-map is units x tokens bytes
KEEP_TEXTS = 8  # states of this many texts kept per run


class BadRequest(RnnkitError):
    pass


async def body(request: Request, limit: int, what: str) -> bytes:
    """The request's body, refused past ``limit`` bytes: the rest is read and dropped (up to ``DRAIN``
    bytes), so the browser gets the message instead of a reset connection."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > DRAIN:
            break
    if size > limit:
        raise BadRequest(f"{what} is {size / 1e6:.1f} MB or more; the limit is {limit / 1e6:.0f} MB")
    data = b"".join(chunks)
    if not data:
        raise BadRequest(f"{what} is empty")
    return data


async def json_body(request: Request) -> dict:
    data = await body(request, MAX_JSON, "the request")
    try:
        value = json.loads(data)
    except ValueError:
        raise BadRequest("the request is not JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the request must be a JSON object")
    return value


def text_of(given: dict, key: str = "text") -> str:
    text = given.get(key)
    if not isinstance(text, str):
        raise BadRequest(f"the request needs {key!r}, a string")
    if not text.strip():
        raise BadRequest("the text is empty; type, paste or pick a text")
    return text


def create_app(runs: list) -> Starlette:
    """The application serving ``runs`` (``rnnkit.view.runs.Run``, numbered in order)."""

    def run_of(request: Request):
        i = request.path_params["i"]
        if not 0 <= i < len(runs):
            raise BadRequest(f"no run {i}: the view was given {len(runs)} run(s), numbered 0..{len(runs) - 1}")
        return runs[i]

    def handler(fn):
        async def wrapped(request: Request):
            try:
                return await fn(request)
            except RnnkitError as e:  # bad input: the page shows the one line
                return JSONResponse({"error": str(e)}, status_code=400)
        return wrapped

    async def index(request):
        page = resources.files("rnnkit.view").joinpath("static/index.html").read_text()
        return Response(page, media_type="text/html")

    async def list_runs(request):
        return JSONResponse({"runs": [r.summary() for r in runs]})

    async def metrics(request):
        after = request.query_params.get("after", "0")
        if not after.isdigit():
            raise BadRequest(f"after must be a count of records, got {after!r}")
        return JSONResponse(run_of(request).metrics(int(after)))

    async def examples(request):
        from rnnkit.view.examples import examples_of

        run = run_of(request)
        return JSONResponse({"examples": examples_of(run.loaded())})

    def cells_of(run, key: str):
        found = run.cache.get(("cells", key))
        if found is None:
            raise BadRequest(f"no states {key!r} for this run (the model was reloaded, or they were dropped); "
                             "read the text again")
        return found

    async def cells(request):
        from starlette.concurrency import run_in_threadpool

        run, given = run_of(request), await json_body(request)
        text = text_of(given)
        loaded = run.loaded()
        key = hashlib.sha1(text.encode()).hexdigest()[:16]
        started = time.perf_counter()
        found = run.cache.get(("cells", key))
        if found is None:
            found = await run_in_threadpool(compute_cells, loaded, text)
            run.cache[("cells", key)] = found
            keys = [k for k in run.cache if k[0] == "cells"]
            for old in keys[:-KEEP_TEXTS]:
                del run.cache[old]
        return JSONResponse({"id": key, "tokens": found.tokens, "joiner": found.joiner, "kinds": found.kinds,
                             "layout": found.layout(), "seconds": time.perf_counter() - started})

    async def heat(request):
        from starlette.concurrency import run_in_threadpool

        cells, kind = cells_of(run_of(request), request.path_params["key"]), request.query_params.get("kind", "h")
        data = await run_in_threadpool(cells.heat, kind)  # c and the gates: computed on the first request
        return Response(data, media_type="application/octet-stream",
                        headers={"x-scales": json.dumps(cells.scales(kind)), "x-tokens": str(len(cells.tokens))})

    async def rank(request):
        cells, q = cells_of(run_of(request), request.path_params["key"]), request.query_params
        return JSONResponse({"units": cells.rank(q.get("property", "quotes"), q.get("kind", "h"))})

    async def match(request):
        cells, q = cells_of(run_of(request), request.path_params["key"]), request.query_params
        try:
            start, end, threshold = int(q["start"]), int(q["end"]), float(q.get("threshold", "0.3"))
        except (KeyError, ValueError):
            raise BadRequest("match needs start and end (token numbers) and a threshold (a number)") from None
        kind = q.get("kind", "h")
        rows = cells.select(start, end, threshold, kind)
        return JSONResponse({"rows": rows, "matches": cells.matches(rows, threshold, kind, skip=(start, end))})

    async def generate(request):
        from rnnkit.view.generate import Options, caption_stream, lm_stream, translate_stream

        run, given = run_of(request), await json_body(request)
        loaded, options = run.loaded(), Options.of(given.get("options", {}))
        task = loaded.task.name
        if task == "lm":
            events = lm_stream(loaded, text_of(given), options)
        elif task == "translate":
            events = translate_stream(loaded, text_of(given), options)
        elif task == "caption":
            events = caption_stream(loaded, image_of(run, given), options)
        else:
            raise BadRequest(f"a {task} model generates nothing; generate works for lm, translate and caption")
        from starlette.concurrency import run_in_threadpool

        first = await run_in_threadpool(next, events)  # a bad prime fails here, in one line, before the stream

        def lines():
            yield json.dumps(first) + "\n"
            try:
                for event in events:
                    yield json.dumps(event) + "\n"
            except RnnkitError as e:
                yield json.dumps({"type": "error", "error": str(e)}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def image_of(run, given):
        key = given.get("image")
        image = run.cache.get(("image", key))
        if image is None:
            raise BadRequest("no image: upload or pick an image first")
        return image

    async def image(request):
        from rnnkit.tasks.caption.images import load_image

        run = run_of(request)
        loaded = run.loaded()
        if loaded.task.name != "caption":
            raise BadRequest(f"a {loaded.task.name} model reads no images")
        data = await body(request, MAX_UPLOAD, "the image")
        with tempfile.NamedTemporaryFile(suffix=".img") as f:  # the server's own file; the decoder reads paths
            f.write(data)
            f.flush()
            try:
                array = load_image(f.name, loaded.configs["data"].image_size)
            except RnnkitError:
                raise BadRequest("the upload is not an image that can be read; give a JPEG or PNG file") from None
        key = hashlib.sha1(data).hexdigest()[:16]
        run.cache[("image", key)] = array
        return JSONResponse({"image": key, "size": list(array.shape[:2])})

    async def alignments(request):
        from starlette.concurrency import run_in_threadpool

        run = run_of(request)
        body_of = await (body(request, MAX_UPLOAD, "the recording") if run.loaded().task.name == "speech"
                         else json_body(request))
        return JSONResponse(await run_in_threadpool(alignment, run, body_of))

    def alignment(run, given):
        from rnnkit.view import alignments as views

        loaded = run.loaded()
        task = loaded.task.name
        if task == "speech":
            with tempfile.NamedTemporaryFile(suffix=".wav") as f:  # the server's own file: read_wav reads paths
                f.write(given)
                f.flush()
                try:
                    return views.speech_alignment(loaded, f.name)
                except RnnkitError as e:
                    raise BadRequest(str(e).replace(f.name, "the recording")) from None
        if task == "translate":
            return views.translation_attention(loaded, text_of(given))
        if task == "tag":
            return views.tag_marginals(loaded, text_of(given))
        if task == "caption":
            return views.caption_attention(loaded, image_of(run, given))
        raise BadRequest(f"a {task} model has no alignment view; it exists for translate, caption, speech and tag")

    static = resources.files("rnnkit.view").joinpath("static")
    routes = [
        Route("/", index),
        Route("/api/runs", handler(list_runs)),
        Route("/api/runs/{i:int}/metrics", handler(metrics)),
        Route("/api/runs/{i:int}/examples", handler(examples)),
        Route("/api/runs/{i:int}/cells", handler(cells), methods=["POST"]),
        Route("/api/runs/{i:int}/cells/{key}/heat", handler(heat)),
        Route("/api/runs/{i:int}/cells/{key}/rank", handler(rank)),
        Route("/api/runs/{i:int}/cells/{key}/match", handler(match)),
        Route("/api/runs/{i:int}/generate", handler(generate), methods=["POST"]),
        Route("/api/runs/{i:int}/image", handler(image), methods=["POST"]),
        Route("/api/runs/{i:int}/alignments", handler(alignments), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    return Starlette(routes=routes)


def compute_cells(loaded, text: str):
    """The states of every unit over ``text`` (``rnnkit.view.analysis.Cells``)."""
    from rnnkit.view.analysis import Cells
    from rnnkit.view.readers import TEXT_READERS, read_text, stack_input
    from rnnkit.view.states import record_states

    tokens = read_text(loaded, text)
    if len(tokens) > MAX_TOKENS:
        raise BadRequest(f"the text has {len(tokens):,} tokens; the cells view reads at most {MAX_TOKENS:,}")
    x = stack_input(loaded, tokens).float().cpu()
    stack = TEXT_READERS[loaded.task.name].stack(loaded.model)
    joiner = "" if TEXT_READERS[loaded.task.name].unit(loaded) == "character" else " "
    return Cells(tokens, joiner, record_states(stack, x))
