"""The page in a real headless browser (Debian's chromium through selenium and the system chromedriver): do
what a user does in each view and check the page shows what the server computed. A tiny char-LM trains in
the background meanwhile, and its curves must grow on the Runs view. With RNNKIT_VIEW_SCREENSHOTS=DIR the
test also saves a screenshot of each view there (docs/figures holds the README's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from viewserver import FIXTURES, Client, start_view, stop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("no chromium/chromedriver on this machine (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium (pip install selenium)")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow  # a browser, a server and a training: ~40 s on two shared cores
SHOTS = os.environ.get("RNNKIT_VIEW_SCREENSHOTS")
CORPUS = "the cat sat on the mat.\nthe dog sat on the log.\n" * 40


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """``(browser, client, training process)``: a server over a live training run and the fixtures."""
    folder = tmp_path_factory.mktemp("live")
    (folder / "corpus.txt").write_text(CORPUS)
    live = folder / "live"
    training = subprocess.Popen(
        [sys.executable, "-m", "rnnkit.cli", "train", "--corpus", str(folder / "corpus.txt"), "--cell", "lstm",
         "--hidden", "16", "--embedding", "8", "--seq-len", "16", "--batch-size", "4", "--steps", "1000000",
         "--time", "300", "--log-every", "25", "--eval-every", "500", "--eval-windows", "2", "--eval-window", "32", "--sample-every", "0",
         "--threads", "1", "--out", str(live)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (live / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    runs = [live] + [FIXTURES / t / "run" for t in ("lm", "translate", "tag", "caption", "speech")]
    proc, url = start_view(runs)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
    yield browser, Client(url), training
    browser.quit()
    training.kill()
    training.wait()
    stop(proc)


def shot(browser, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(SHOTS) / f"view-{name}.png"))


def choose(browser, run, view):
    Select(browser.find_element(By.ID, "run")).select_by_index(run)
    browser.find_element(By.CSS_SELECTOR, f'nav button[data-view="{view}"]').click()


def no_error(browser):
    assert browser.find_element(By.ID, "message").text == ""


def test_runs_curves_grow_while_training(page):
    browser, client, training = page
    choose(browser, 0, "runs")

    def points():
        return browser.execute_script(  # one read: the charts are redrawn at every poll
            "const l = document.querySelector('#chart-loss polyline[data-key=\"train_loss\"][data-run=\"0\"]');"
            "return l ? Number(l.dataset.count) : 0;")

    first = WebDriverWait(browser, 60).until(lambda b: points())
    later = WebDriverWait(browser, 90).until(lambda b: points() >= first + 3 and points())
    served = client.json("/api/runs/0/metrics")["total"]
    assert later <= served  # the page shows records the server has, and more as the run writes them
    assert browser.execute_script("return !!document.querySelector('#chart-lr polyline') && "
                                  "!!document.querySelector('#chart-tokens-s polyline')")
    shot(browser, "runs")
    no_error(browser)
    training.kill()  # the other views read the fixtures: the training's core is given back


def test_cells_click_a_unit_select_a_span_see_matches(page):
    browser, client, _ = page
    choose(browser, 1, "cells")  # the fixture char-LM
    text = "the cat sat on the mat.\nthe dog sat on the box.\nthe cat sat on the den.\n"
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    browser.find_element(By.ID, "read").click()
    WebDriverWait(browser, 30).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#colored span.tok")) == len(text)
                                     and b.find_element(By.ID, "heat").get_attribute("data-tokens") == str(len(text)))
    heat = browser.find_element(By.ID, "heat")  # the text and the heat-map are drawn one after the other: both awaited
    assert heat.get_attribute("data-rows") == "12" and heat.get_attribute("data-tokens") == str(len(text))
    Select(browser.find_element(By.ID, "kind")).select_by_value("c")
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "heat").get_attribute("data-kind") == "c")
    unit = 5  # click the sixth row of the heat-map: the text is coloured by layer 0 unit 5
    ch = int(heat.get_attribute("data-ch"))
    ActionChains(browser).move_to_element_with_offset(heat, 3 - heat.size["width"] // 2,
                                                      unit * ch + ch // 2 - heat.size["height"] // 2).click().perform()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "unit-label").get_attribute("data-row") == str(unit))
    assert "layer 0 unit 5 (c)" in browser.find_element(By.ID, "unit-label").text
    key = client.json("/api/runs/1/cells", {"text": text})["id"]  # the same text: the server's cached states
    code, headers, body = client.request(f"/api/runs/1/cells/{key}/heat?kind=c")
    T = len(text)
    expected = [(b - 128) / 127 for b in body[unit * T:(unit + 1) * T]]
    shown = [float(s.get_attribute("data-value")) for s in browser.find_elements(By.CSS_SELECTOR, "#colored span.tok")]
    assert max(abs(a - b) for a, b in zip(shown, expected)) < 1e-3
    spans = browser.find_elements(By.CSS_SELECTOR, "#colored span.tok")  # drag over "cat" (tokens 4..6)
    left, right = spans[4].size["width"] // 2 - 1, spans[6].size["width"] // 2 - 1
    ActionChains(browser).move_to_element_with_offset(spans[4], -left, 0).click_and_hold() \
        .move_to_element_with_offset(spans[6], right, 0).release().perform()
    label = browser.find_element(By.ID, "span-label")
    WebDriverWait(browser, 10).until(lambda b: label.get_attribute("data-start") == "4")
    assert label.get_attribute("data-end") == "7" and '"cat"' in label.text
    Select(browser.find_element(By.ID, "kind")).select_by_value("h")
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "heat").get_attribute("data-kind") == "h")
    browser.execute_script("const t = document.getElementById('threshold'); t.value = '0.05'; t.oninput();")
    browser.find_element(By.ID, "match").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "selected-units").get_attribute("data-rows"))
    served = client.json(f"/api/runs/1/cells/{key}/match?start=4&end=7&threshold=0.05&kind=h")
    assert json.loads(browser.find_element(By.ID, "selected-units").get_attribute("data-rows")) == served["rows"]
    shown = [(int(li.get_attribute("data-start")), int(li.get_attribute("data-end")))
             for li in browser.find_elements(By.CSS_SELECTOR, "#matches li")]
    assert shown == [(m["start"], m["end"]) for m in served["matches"]]
    browser.find_element(By.ID, "rank").click()  # units ranked by a property: quotes, absent from this text
    WebDriverWait(browser, 30).until(lambda b: "never changes the property 'quotes'" in b.find_element(By.ID, "message").text)
    Select(browser.find_element(By.ID, "property")).select_by_value("line-position")
    browser.find_element(By.ID, "rank").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#ranked li") and
                                     b.find_element(By.ID, "message").text == "")
    top = client.json(f"/api/runs/1/cells/{key}/rank?property=line-position&kind=h")["units"][0]
    assert browser.find_elements(By.CSS_SELECTOR, "#ranked li")[0].get_attribute("data-row") == str(top["row"])
    shot(browser, "cells")


def test_generate_with_the_temperature_moved(page):
    browser, client, _ = page
    choose(browser, 1, "generate")
    prime = browser.find_element(By.ID, "prime")
    prime.clear()
    prime.send_keys("the ")
    browser.execute_script("const t = document.getElementById('temperature'); t.value = '0.5'; t.oninput();")
    assert browser.find_element(By.ID, "temperature-value").text == "0.5"
    for name, value in (("length", "40"), ("seed", "3")):
        field = browser.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    browser.find_element(By.ID, "generate").click()
    out = browser.find_element(By.ID, "output")
    WebDriverWait(browser, 30).until(lambda b: out.get_attribute("data-done") == "1")
    tokens = browser.find_elements(By.CSS_SELECTOR, "#output span.gen")
    options = {"decoder": "sample", "temperature": 0.5, "top_k": 0, "top_p": 0.0, "beam": 5, "repetition_penalty": 1.0,
               "no_repeat_ngram": 0, "length": 40, "seed": 3}
    served = client.lines("/api/runs/1/generate", {"text": "the ", "options": options})[:-1]
    assert [t.text or " " for t in tokens] == [e["text"] if e["text"] != "\n" else " " for e in served] or \
        [t.get_attribute("data-p") for t in tokens] == [str(e["p"]) for e in served]
    assert [float(t.get_attribute("data-p")) for t in tokens] == pytest.approx([e["p"] for e in served])
    ActionChains(browser).move_to_element(tokens[0]).perform()  # hover: its probability and the alternatives
    tip = browser.find_element(By.ID, "tooltip")
    WebDriverWait(browser, 5).until(lambda b: tip.is_displayed())
    assert "alternatives" in tip.text and f"{100 * served[0]['p']:.1f}%" in tip.text
    shot(browser, "generate")


def test_alignments_translate_tag_caption_speech(page):
    browser, client, _ = page
    choose(browser, 2, "alignments")  # the translator
    field = browser.find_element(By.ID, "align-text")
    field.clear()
    field.send_keys("the big dog eats")
    browser.find_element(By.ID, "align").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#attention td"))
    served = client.json("/api/runs/2/alignments", {"text": "the big dog eats"})
    cells = [float(td.get_attribute("data-value")) for td in browser.find_elements(By.CSS_SELECTOR, "#attention tbody td")]
    assert cells == pytest.approx([a for row in served["attention"] for a in row])
    shot(browser, "attention")
    choose(browser, 3, "alignments")  # the tagger
    field.clear()
    field.send_keys("the dog sat")
    browser.find_element(By.ID, "align").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#tags td.tag"))
    served = client.json("/api/runs/3/alignments", {"text": "the dog sat"})
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#tags td.tag")] == served["predicted"]
    choose(browser, 4, "alignments")  # the captioner: upload an image, hover a word
    image = FIXTURES / "data" / "caption" / "img" / "red0.png"
    browser.find_element(By.ID, "align-file").send_keys(str(image))
    browser.find_element(By.ID, "align").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#caption span"))
    words = browser.find_elements(By.CSS_SELECTOR, "#caption span")
    key = client.json("/api/runs/4/image", image.read_bytes(), content_type="image/png")["image"]
    assert [w.text for w in words] == client.json("/api/runs/4/alignments", {"image": key})["words"]
    ActionChains(browser).move_to_element(words[0]).perform()
    WebDriverWait(browser, 5).until(lambda b: b.find_element(By.ID, "attention-map").get_attribute("data-word") == "0")
    shot(browser, "caption")
    choose(browser, 5, "alignments")  # the speech model: a WAV's spectrogram and transcript
    wav = sorted((FIXTURES / "data" / "speech" / "recordings").glob("*.wav"))[0]
    browser.find_element(By.ID, "align-file").send_keys(str(wav))
    browser.find_element(By.ID, "align").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "spectrogram"))
    served = client.json("/api/runs/5/alignments", wav.read_bytes(), content_type="audio/wav")
    assert browser.find_element(By.ID, "transcript").text.startswith("recognised: " + " ".join(map(str, served["digits"])))
    no_error(browser)
    browser.find_element(By.ID, "align-file").send_keys(str(image))  # a PNG is not a WAV: the page says so
    browser.find_element(By.ID, "align").click()
    WebDriverWait(browser, 30).until(lambda b: "not a WAV file" in b.find_element(By.ID, "message").text)
