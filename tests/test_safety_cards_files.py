"""Issue 19, minor items on model cards: hostile card files and names, hostile TOML values,
`models show --json` that must stay strict JSON, and text that must not drive the terminal.

Every case ends in one line (UserError; exit status 2 from the CLI, or a FAIL line from
`models check`), never a traceback and never a hang.
"""
from __future__ import annotations

import json
import os
import threading

import pytest
from model_zoo import INPUT, card_dict, make_model, write_card

from sketchstudio.errors import UserError
from sketchstudio.models import load_card
from sketchstudio.textsafe import printable

pytestmark = pytest.mark.skipif(os.name != "posix",
                                reason="FIFOs, symlinks and descriptor 1 as POSIX has them")


BASE = ('name = "x"\ntask = "classify"\nfile = "model.pt"\nlabels = ["a", "b"]\n'
        '[input]\nsize = 28\nchannels = 1\nink = "light-on-dark"\nfit = "center"\n')


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"not read by load_card")
    return tmp_path


def _one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text
    return text


# --- card files that are not plain files --------------------------------------------------------
def test_a_fifo_card_is_refused_without_opening_it(folder):
    fifo = folder / "fifo.toml"
    os.mkfifo(fifo)
    # If the loader opened the FIFO it would block for ever; a writer-side open with O_NONBLOCK
    # fails with ENXIO while no reader has it open, so this proves nobody ever did.
    with pytest.raises(UserError) as info:
        load_card(fifo)
    assert "FIFO" in _one_line(info) and str(fifo) in str(info.value)
    with pytest.raises(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_cli_check_and_show_on_a_fifo_card_return_at_once(cli_env, run_cli, folder):
    fifo = folder / "card.toml"
    os.mkfifo(fifo)
    results = {}

    def run():   # on a thread, so a regression blocks that thread, not the whole test run
        results["check"] = run_cli("models", "check", str(fifo))
        results["show"] = run_cli("models", "show", str(fifo))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():   # unblock it: open the FIFO's other end once
        os.close(os.open(fifo, os.O_WRONLY))
        pytest.fail("a FIFO card blocked the command")
    code, out, _ = results["check"]
    assert code == 1 and out.startswith("FAIL  card:") and "FIFO" in out
    code, _, err = results["show"]
    assert code == 2 and err.count("\n") == 1 and "FIFO" in err


def test_devices_and_folders_are_not_cards(tmp_path):
    with pytest.raises(UserError) as info:
        load_card("/dev/zero")      # a device never ends
    assert "character device" in _one_line(info)
    (tmp_path / "card.toml").mkdir()
    with pytest.raises(UserError) as info:
        load_card(tmp_path)
    assert "folder" in _one_line(info)


@pytest.mark.parametrize("name, words", [
    ("x" * 300 + ".toml", "file name too long"),
    ("a\0b.toml", "NUL"),
    ("loop", "loop of symbolic links"),
    ("loop/card.toml", "loop of symbolic links"),
])
def test_card_names_the_system_refuses(tmp_path, monkeypatch, name, words):
    monkeypatch.chdir(tmp_path)
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(UserError) as info:
        load_card(name)
    assert words in _one_line(info)


@pytest.mark.parametrize("name, words", [
    ("x" * 300 + ".toml", "file name too long"), ("loop", "loop of symbolic links"),
    ("loop/card.toml", "loop of symbolic links")])
def test_cli_on_card_names_the_system_refuses(cli_env, run_cli, monkeypatch, name, words):
    monkeypatch.chdir(cli_env)
    os.symlink("loop", cli_env / "loop")
    for action in ("show", "add", "check"):
        code, out, err = run_cli("models", action, name)
        if code == 1:   # check: the card could be named, so its first line says why it failed
            assert action == "check" and out.count("\n") == 1 and out.startswith("FAIL  card")
            assert words in out
        else:
            assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err


@pytest.mark.parametrize("file, words", [
    ("loop", "loop of symbolic links"), ("loop/model.pt", "loop of symbolic links"),
    ("m" * 300 + ".pt", "file name too long"), ("a\0b.pt", "NUL"), ("pipe.pt", "FIFO"),
])
def test_model_file_names_the_system_refuses(folder, file, words):
    os.symlink("loop", folder / "loop")
    os.mkfifo(folder / "pipe.pt")
    card = dict(card_dict(), file=file)
    with pytest.raises(UserError) as info:
        load_card(write_card(folder, card))
    assert words in _one_line(info) and "file" in str(info.value)


# --- hostile TOML values --------------------------------------------------------------------------
@pytest.mark.parametrize("extra, words", [
    ("big = " + "9" * 5000, "too long"),                         # int max str digits
    ("big = " + "1" * 4301, "too long"),
    ("deep = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("deep = " + "{ a = " * 5000 + "1" + " }" * 5000, "nested too deeply"),
    ("deep = " + "[" * 40 + "]" * 40, "nested more than 32"),   # parses, still refused
    ("big = 0x" + "f" * 5000, "out of range"),                  # no digit limit for hex
    ("big = 9223372036854775808", "out of range"),
])
def test_hostile_toml_values(folder, extra, words):
    with pytest.raises(UserError) as info:
        load_card(write_card(folder, text=extra + "\n" + BASE))
    text = _one_line(info)
    assert words in text and text.startswith(str(folder / "card.toml")) and len(text) < 400


def test_the_edges_of_the_toml_ranges_still_load(folder):
    text = ("big = 9223372036854775807\nsmall = -9223372036854775808\n"
            "deep = " + "[" * 30 + "]" * 30 + "\n" + BASE)
    card = load_card(write_card(folder, text=text))
    assert card.extra["big"] == 2**63 - 1 and card.extra["small"] == -2**63


def test_cli_show_on_an_integer_of_5000_digits(cli_env, run_cli, folder):
    card = write_card(folder, text="big = " + "7" * 5000 + "\n" + BASE)
    code, out, err = run_cli("models", "show", str(card), "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "too long" in err


# --- models show --json is strict JSON ------------------------------------------------------------
STRICT = {"parse_constant": lambda name: pytest.fail(f"{name} is not JSON")}


def test_show_json_with_dates_and_non_finite_numbers(cli_env, run_cli, folder):
    card = write_card(folder, text=(
        "released = 2024-03-14T09:26:53Z\nday = 2024-03-14\nat = 09:26:53\n"
        "local = 2024-03-14T09:26:53.5\nthreshold = nan\nlimits = [1.0, inf, -inf]\n"
        + BASE + "[notes]\nchecked = 1979-05-27T07:32:00-08:00\n"))
    code, out, err = run_cli("models", "show", str(card), "--json")
    assert code == 0
    shown = json.loads(out, **STRICT)
    assert shown["released"] == "2024-03-14T09:26:53+00:00" and shown["day"] == "2024-03-14"
    assert shown["at"] == "09:26:53" and shown["local"] == "2024-03-14T09:26:53.500000"
    assert shown["notes"]["checked"] == "1979-05-27T07:32:00-08:00"
    assert shown["threshold"] is None and shown["limits"] == [1.0, None, None]
    # What was changed is said on stderr, one line each, so stdout stays pure JSON.
    notes = err.splitlines()
    assert len(notes) == 3 and all(n.startswith("sketchstudio models: note: ") for n in notes)
    assert any("threshold = nan" in n for n in notes)
    assert any("limits[1] = inf" in n for n in notes)


def test_list_json_is_strict_with_a_broken_card(cli_env, run_cli, folder):
    models = cli_env / "data" / "models" / "broken"
    write_card(models, text="name = \"\x1b[31mred\"\n" + "x = nan\n")
    code, out, _ = run_cli("models", "list", "--json")
    assert code == 0 and "\x1b" not in out
    rows = json.loads(out, **STRICT)
    assert rows[0]["id"] == "broken" and rows[0]["problem"]


# --- text that could drive the terminal -----------------------------------------------------------
def test_printable_escapes_controls_and_keeps_scripts():
    assert printable("plain words") == "plain words"
    assert printable("\x1b[2J\x1b]0;pwned\x07") == "\\x1b[2J\\x1b]0;pwned\\x07"
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x9b31m") == "\\x9b31m"                       # C1 CSI
    assert printable("abc\u202edcba") == "abc\\u202edcba"           # bidi override
    assert printable("\ud800") == "\\ud800"      # lone surrogate: print would raise
    assert printable("chat \u732b, \u00e9t\u00e9, \U0001F469\u200d\U0001F3A8") == \
        "chat \u732b, \u00e9t\u00e9, \U0001F469\u200d\U0001F3A8"


def _hostile_model(tmp_path):
    return make_model(tmp_path / "evil", name="Evil \x1b[2J\x1b]0;title\x07 CNN",
                      labels=["cat\x1b[31m", "\u202egod", "dog\r\nFAKE LINE"],
                      description="line one\x1b[1A\x1b[2Koverwritten")


def test_cli_escapes_card_text_everywhere(cli_env, run_cli, tmp_path):
    card = _hostile_model(tmp_path)
    code, out, err = run_cli("models", "show", str(card))
    assert code == 0 and err == ""
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "FAKE LINE" in out and "\\r\\nFAKE LINE" in out
    code, out, _ = run_cli("models", "check", str(card))
    assert "\x1b" not in out and "\\x1b[2J" in out and len(out.splitlines()) >= 5
    code, out, _ = run_cli("models", "add", str(card), "--no-check")
    model_id = out.strip()
    code, out, _ = run_cli("models", "list")
    assert code == 0 and model_id in out and "\x1b" not in out and "\\x1b" in out


def test_cli_error_lines_are_escaped(cli_env, run_cli, folder):
    card = folder / "card\x1b[2J\nline2.toml"     # the error line quotes the card's path
    card.write_text("name = [")
    code, out, err = run_cli("models", "show", str(card))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "\x1b" not in err and "card\\x1b[2J\\nline2.toml: not valid TOML" in err


def test_a_model_message_with_escapes_is_escaped(cli_env, run_cli, tmp_path):
    import torch
    from model_zoo import TinyClassifier, save_torchscript

    class Shouts(TinyClassifier):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("\x1b[2J\x1b[31mERASED")

    folder = tmp_path / "shouts"
    save_torchscript(Shouts(), folder / "model.pt")
    card = write_card(folder, card_dict(input=INPUT))
    code, out, _ = run_cli("models", "check", str(card))
    assert code == 1 and "\x1b" not in out and "ERASED" in out
    assert out.splitlines()[-1].startswith("FAIL  forward")


def test_info_escapes_words_and_file_names(cli_env, run_cli, tmp_path):
    path = tmp_path / "w\x1b[1A.ndjson"
    path.write_text(json.dumps({"word": "cat\x1b[2J\u202eX\nforged",
                                "drawing": [[[1, 2], [3, 4]]]}) + "\n")
    code, out, err = run_cli("info", str(path))
    assert code == 0 and err == "" and len(out.splitlines()) == 3
    assert "\x1b" not in out and "\u202e" not in out and "cat\\x1b[2J\\u202eX\\nforged" in out
    assert "w\\x1b[1A.ndjson" in out
    code, out, _ = run_cli("info", str(path), "--json")
    assert json.loads(out)["drawings"][0]["word"] == "cat\x1b[2J\u202eX\nforged"
