"""The optional vision-language describer, on a tiny randomly initialised model built here (never downloads)."""
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from mtm_daw.data import DEMO_IMAGE  # noqa: E402
from mtm_daw.describe import describe  # noqa: E402
from mtm_daw.errors import MtmError  # noqa: E402

WORDS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]", "jazz", "saxophone", "calm", "the", "a", "picture"]


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory):
    """ViT encoder + BERT decoder whose output bias always says 'jazz saxophone'."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (BertConfig, PreTrainedTokenizerFast, ViTConfig, ViTImageProcessor,
                              VisionEncoderDecoderConfig, VisionEncoderDecoderModel)

    folder = tmp_path_factory.mktemp("tiny_vlm")
    vocab = {word: index for index, word in enumerate(WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="[PAD]", bos_token="[BOS]",
                                        eos_token="[EOS]", unk_token="[UNK]")
    encoder = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64)
    decoder = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, is_decoder=True, add_cross_attention=True)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = vocab["[BOS]"]
    config.pad_token_id = vocab["[PAD]"]
    config.eos_token_id = vocab["[EOS]"]
    model = VisionEncoderDecoderModel(config=config)
    torch.manual_seed(0)
    with torch.no_grad():  # make the caption deterministic: 'jazz saxophone', then end
        bias = model.decoder.cls.predictions.decoder.bias if hasattr(model.decoder.cls.predictions.decoder, "bias") \
            else model.decoder.cls.predictions.bias
        bias.fill_(-50.0)
        bias[vocab["jazz"]] = 50.0
    model.generation_config.max_new_tokens = 3
    model.generation_config.decoder_start_token_id = vocab["[BOS]"]
    model.generation_config.pad_token_id = vocab["[PAD]"]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_vlm_caption_refines_genre_and_keeps_picture_timing(tiny_captioner, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plain = describe(DEMO_IMAGE)
    refined = describe(DEMO_IMAGE, describer="vlm", model=str(tiny_captioner))
    assert refined.genre == "jazz"
    assert "Picture: jazz" in refined.sentence
    assert (refined.tempo, refined.key, refined.duration) == (plain.tempo, plain.key, plain.duration)


def test_vlm_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MtmError, match="not a model folder"):
        describe(DEMO_IMAGE, describer="vlm", model=str(tmp_path))


def test_pickle_weights_are_refused_before_they_are_read(tiny_captioner, tmp_path):
    """A folder holding only pytorch_model.bin (a pickle, which can run code when loaded) is refused;
    the file is never opened, so even a hostile one does nothing."""
    import shutil

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_captioner, folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04 not even a valid pickle")
    with pytest.raises(MtmError, match=r"only pytorch_model\.bin.*\.safetensors files only"):
        describe(DEMO_IMAGE, describer="vlm", model=str(folder))
