import pickle

import pytest
import torch

from noise2noise.model import ModelConfig, build_model
from noise2noise.weights import WeightsError, load_weights, save_weights


def test_safetensors_round_trip_carries_the_config(tmp_path):
    cfg = ModelConfig("unet", 1, 1)
    m = build_model(cfg)
    save_weights(tmp_path / "m.safetensors", m, cfg, {"noise": "gaussian:0-50"})
    ck = load_weights(tmp_path / "m.safetensors")  # no flags needed
    assert ck.config == cfg and ck.meta["noise"] == "gaussian:0-50"
    for k, v in m.state_dict().items():
        assert torch.equal(ck.model.state_dict()[k], v)


def test_legacy_state_dict_with_and_without_arch(tmp_path):
    m = build_model(ModelConfig("unet"))
    torch.save(m.state_dict(), tmp_path / "m.pt")
    assert load_weights(tmp_path / "m.pt").config.arch == "unet"
    assert load_weights(tmp_path / "m.pt", arch="unet").config.arch == "unet"
    with pytest.raises(WeightsError, match="does not fit the 'unet-compact'"):
        load_weights(tmp_path / "m.pt", arch="unet-compact")


class Evil:
    def __reduce__(self):
        return (print, ("this code must never run",))


def test_a_pickle_that_carries_code_is_refused(tmp_path, capsys):
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"x": Evil()}, f)
    torch.save({"a": Evil()}, tmp_path / "evil2.pt")
    for name in ("evil.pt", "evil2.pt"):
        with pytest.raises(WeightsError, match="refused|not a readable"):
            load_weights(tmp_path / name)
    assert "must never run" not in capsys.readouterr().out


def test_mismatched_checkpoint_names_keys_and_shapes(tmp_path):
    sd = build_model(ModelConfig("unet")).state_dict()
    sd["enc_conv3.weight"] = torch.zeros(48, 32, 3, 3)
    del sd["dec_conv1c.bias"]
    torch.save(sd, tmp_path / "bad.pt")
    with pytest.raises(WeightsError) as e:
        load_weights(tmp_path / "bad.pt")
    msg = str(e.value)
    assert "dec_conv1c.bias" in msg and "enc_conv3.weight (48, 32, 3, 3)" in msg and "\n" not in msg


def test_garbage_and_empty_files(tmp_path):
    (tmp_path / "e.safetensors").write_bytes(b"")
    (tmp_path / "g.safetensors").write_bytes(b"garbage" * 10)
    (tmp_path / "g.pt").write_bytes(b"garbage" * 10)
    for n in ("e.safetensors", "g.safetensors", "g.pt", "missing.pt"):
        with pytest.raises(WeightsError):
            load_weights(tmp_path / n)


def test_a_newer_weights_format_and_bad_metadata_are_clear_errors(tmp_path):
    import json

    from safetensors.torch import save_file

    cfg = ModelConfig("unet-compact")
    state = {k: v.contiguous() for k, v in build_model(cfg).state_dict().items()}
    cases = {
        "newer": (json.dumps({"format": 99, "model": cfg.to_dict()}), "newer than this noise2noise reads"),
        "empty": ("{}", "no model config"),
        "json": ("{not json", "not valid JSON"),
    }
    for name, (header, message) in cases.items():
        save_file(state, str(tmp_path / f"{name}.safetensors"), metadata={"n2n_config": header})
        with pytest.raises(WeightsError, match=message):
            load_weights(tmp_path / f"{name}.safetensors")
