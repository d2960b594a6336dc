"""The tiny pipelines' tokenizers and text encoders: word-level vocabularies (no download), T5 and CLIP
encoders of a few dimensions; weditor/testing/pipelines.py and families.py build on them."""

from __future__ import annotations

WORDS = (
    "a an the of on in at with and to is man woman child dog cat car street beach forest city "
    "room night day red blue green yellow white black circle square triangle moving left right up "
    "down walking running talking dancing nude naked clothed blood dust knife flower cup table "
    "sunset rain snow smiling person people crowd river boat tree house window camera slow fast"
).split()


def build_tokenizer(max_length: int = 16):
    """A word-level fast tokenizer with T5-like special tokens (pad=0, eos=1, unk=2)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"])
    tok.train_from_iterator([" ".join(WORDS)], trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def _word_level(words, specials: list[str], pre_tokenizer=None, template: str | None = None, **kwargs):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizer or pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        [" ".join(words)] if isinstance(words, (list, tuple)) else [words],
        trainers.WordLevelTrainer(special_tokens=specials),
    )
    if template is not None:
        names = [t for t in template.split() if t in specials]
        tok.post_processor = processors.TemplateProcessing(
            single=template, special_tokens=[(t, tok.token_to_id(t)) for t in dict.fromkeys(names)]
        )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", **kwargs)


def build_clip_tokenizer(max_length: int = 16):
    """CLIP-like: `<|startoftext|> ... <|endoftext|>`, padded with `<|endoftext|>` (ids 0 and 1)."""
    return _word_level(
        WORDS,
        ["<|startoftext|>", "<|endoftext|>", "<unk>"],
        template="<|startoftext|> $A <|endoftext|>",
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=max_length,
    )


def build_llama_tokenizer(max_length: int = 16):
    """Llama-3-like for HunyuanVideo: header/eot special tokens, and the pipeline's prompt template
    prefix tokenizes to exactly its `crop_start` (95) tokens, as with the real tokenizer."""
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE
    from tokenizers import Regex, pre_tokenizers

    specials = [
        "<|end_of_text|>",
        "<|begin_of_text|>",
        "<unk>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    ]
    template = DEFAULT_PROMPT_TEMPLATE["template"]
    text = template.replace("{}", " ".join(WORDS))
    for s in specials:
        text = text.replace(s, " ")
    tok = _word_level(
        text,
        specials,
        pre_tokenizer=pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\n"), behavior="removed", invert=True),
        bos_token="<|begin_of_text|>",
        eos_token="<|end_of_text|>",
        pad_token="<|end_of_text|>",
        model_max_length=max_length,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[3:]})
    prefix = len(tok(template.split("{}")[0])["input_ids"])
    assert prefix == DEFAULT_PROMPT_TEMPLATE["crop_start"], prefix
    return tok


def _t5(tokenizer, d_model: int = 16):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=d_model,
            d_kv=8,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        )
    ).eval()


def _clip_text(tokenizer, hidden: int = 16):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    ).eval()
