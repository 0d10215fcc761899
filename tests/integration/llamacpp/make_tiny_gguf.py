"""Generate a tiny random-weight llama GGUF that real llama.cpp servers can serve.

The replies are gibberish on purpose: the model only has to load, tokenize ChatML
prompts and generate tokens fast on a CPU, so that the servers' HTTP layer, SSE
streaming, tool calls and JSON grammars can be exercised for real.

    python make_tiny_gguf.py OUT.gguf [--variant llama_server] [--seed 1234]

or, from Python (needs numpy and gguf; importing this module does not):

    from make_tiny_gguf import generate
    sha256 = generate("out.gguf", variant="llama_cpp_python")

Same arguments and same `gguf`/`numpy` versions -> byte-identical file.

Model: architecture llama, 2 layers, hidden 64, 4 heads, FFN 256, context 2048,
float32, ~0.86 MB. SentencePiece-style ("llama") vocab: <unk>, <s>, </s>, 256
byte tokens, ChatML <|im_start|>/<|im_end|>, "<tool_call>\\n", "</tool_call>",
"▁", printable ASCII and "▁word" pieces with all their prefixes (so SPM merges
reach them). add_space_prefix is false: with it, "<|im_start|>assistant" would
tokenize as "▁assistant" and llama-server's grammar prefill fails for every
JSON/tool grammar. The chat template is ChatML with Hermes-style tool calls,
which llama-server's template analyser recognises.

Output shaping (so the paths under test actually fire):
- residual dim 0 is a constant that no layer writes, so column 0 of
  output.weight is a per-token logit bias: byte/control tokens are never
  sampled, </s> and <|im_end|> get `eos_bias` (replies stop by themselves
  after ~70 tokens), text tokens 0.
- residual dim 1 is set only by the "\\n" byte token, so column 1 biases the
  first token after a newline, i.e. right after "<|im_start|>assistant\\n":
  '<' over 'f'. llama-cpp-python's chatml-function-calling handler then picks
  one `functions.NAME:` call for tool_choice="auto" and stops after it.
- variant "llama_server" also puts "<tool_call>\\n" first after a newline, so
  llama-server's tool-call grammars trigger (plain replies then start with it).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

MODEL_NAME = "tiny-random-llama"
DEFAULT_SEED = 1234

# Model variant per server. "llama_server" adds the Hermes <tool_call> bias that
# would confuse llama-cpp-python's own tool-call handler.
VARIANTS: dict[str, dict[str, Any]] = {
    "llama_cpp_python": {"hermes_tool_bias": False},
    "llama_server": {"hermes_tool_bias": True},
}

N_EMBD, N_LAYER, N_HEAD, N_FF, N_CTX = 64, 2, 4, 256, 2048

# Every tag trims the whitespace around it, so the layout below does not leak
# into the prompt; newlines in the prompt come from string literals only.
CHAT_TEMPLATE = """
{%- if tools -%}
  {{- '<|im_start|>system\\n' -}}
  {%- if messages[0]['role'] == 'system' -%}
    {{- messages[0]['content'] + '\\n\\n' -}}
  {%- endif -%}
  {{- 'Tools available, one JSON signature per line inside <tools></tools>:\\n<tools>' -}}
  {%- for tool in tools -%}
    {{- '\\n' -}}{{- tool | tojson -}}
  {%- endfor -%}
  {{- '\\n</tools>\\n\\nTo call a function, answer with a JSON object inside '
      + '<tool_call></tool_call> tags:\\n<tool_call>\\n'
      + '{"name": <function-name>, "arguments": <args-json-object>}\\n'
      + '</tool_call><|im_end|>\\n' -}}
{%- elif messages and messages[0]['role'] == 'system' -%}
  {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' -}}
{%- endif -%}
{%- for message in messages -%}
  {%- if message['role'] == 'system' and loop.first -%}
  {%- elif message['role'] == 'assistant' and message['tool_calls'] is defined
        and message['tool_calls'] -%}
    {{- '<|im_start|>assistant' -}}
    {%- if message['content'] is string and message['content'] -%}
      {{- '\\n' + message['content'] -}}
    {%- endif -%}
    {%- for call in message['tool_calls'] -%}
      {%- if call['function'] is defined -%}
        {%- set fn = call['function'] -%}
      {%- else -%}
        {%- set fn = call -%}
      {%- endif -%}
      {{- '\\n<tool_call>\\n{"name": "' + fn['name'] + '", "arguments": ' -}}
      {%- if fn['arguments'] is string -%}
        {{- fn['arguments'] -}}
      {%- else -%}
        {{- fn['arguments'] | tojson -}}
      {%- endif -%}
      {{- '}\\n</tool_call>' -}}
    {%- endfor -%}
    {{- '<|im_end|>\\n' -}}
  {%- elif message['role'] == 'tool' -%}
    {{- '<|im_start|>user\\n<tool_response>\\n' -}}
    {%- if message['content'] is string -%}
      {{- message['content'] -}}
    {%- endif -%}
    {{- '\\n</tool_response><|im_end|>\\n' -}}
  {%- else -%}
    {{- '<|im_start|>' + message['role'] + '\\n' -}}
    {%- if message['content'] is string -%}
      {{- message['content'] -}}
    {%- endif -%}
    {{- '<|im_end|>\\n' -}}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {{- '<|im_start|>assistant\\n' -}}
{%- endif -%}
""".strip()

# Word pieces: they only make the gibberish look like text and keep prompts short.
WORDS = """
a about after all also an and any are as ask at back be because been but by
call can city come could day did do down each error even false find first for
from function get give go good had has have he hello her here him his how i if
in into is it its json just know like long look make many may more most my name
new no not now null number of ok on one only or other our out over part people
say see she so some take tell than that the their them then there these they
think this time to tool true two up us use value want water way we weather well
what when which who will with word work world would write year yes you your
""".split()

# Logit-bias classes (column 0 of output.weight); "eos" uses the eos_bias argument.
_NEVER, _EOS, _TEXT = "never", "eos", "text"


def build_vocab(variant: str) -> tuple[list[str], list[float], list[int], list[str]]:
    """Return (pieces, scores, token types, bias classes) in token-id order."""
    import gguf

    normal, control = gguf.TokenType.NORMAL, gguf.TokenType.CONTROL
    pieces: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    classes: list[str] = []

    def add(piece: str, score: float, kind: int, klass: str) -> None:
        if piece not in pieces:
            pieces.append(piece)
            scores.append(score)
            types.append(int(kind))
            classes.append(klass)

    add("<unk>", 0.0, gguf.TokenType.UNKNOWN, _NEVER)  # 0
    add("<s>", 0.0, control, _NEVER)  # 1, BOS
    add("</s>", 0.0, control, _EOS)  # 2, EOS
    for byte in range(256):  # 3..258, byte fallback
        add(f"<0x{byte:02X}>", 0.0, gguf.TokenType.BYTE, _NEVER)
    add("<|im_start|>", 0.0, control, _NEVER)  # 259
    add("<|im_end|>", 0.0, control, _EOS)  # 260, EOT
    # Hermes tool-call markers; the opening one includes its newline, otherwise
    # llama-server's grammar lets free text continue after "<tool_call>". Only the
    # llama_server variant samples them (llama-cpp-python's handler does not use them).
    marker = _TEXT if VARIANTS[variant]["hermes_tool_bias"] else _NEVER
    add("<tool_call>\n", 0.0, normal, marker)
    add("</tool_call>", 0.0, normal, marker)
    add("\u2581", -1.0, normal, _TEXT)
    for code in range(0x21, 0x7F):
        add(chr(code), -2.0, normal, _TEXT)
    for word in WORDS:
        piece = "\u2581" + word
        for end in range(2, len(piece) + 1):
            add(piece[:end], float(end - 1), normal, _TEXT)
    return pieces, scores, types, classes


def generate(
    out: str | Path,
    *,
    variant: str = "llama_cpp_python",
    seed: int = DEFAULT_SEED,
    eos_bias: float = 0.6,
) -> str:
    """Write the model to `out` and return its sha256 hex digest."""
    import gguf
    import numpy as np

    hermes_tool_bias = VARIANTS[variant]["hermes_tool_bias"]
    f32 = np.float32
    rng = np.random.default_rng(seed)

    def randn(shape: tuple[int, ...], std: float) -> Any:
        return rng.standard_normal(shape).astype(f32) * f32(std)

    pieces, scores, types, classes = build_vocab(variant)
    n_vocab, head_dim = len(pieces), N_EMBD // N_HEAD
    newline = pieces.index("<0x0A>")

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(MODEL_NAME)
    writer.add_description("random weights for integration tests; output is gibberish")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(pieces)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_eot_token_id(pieces.index("<|im_end|>"))
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    # Embeddings: dim 0 constant (bias channel), dim 1 = "previous token was \n".
    embd = randn((n_vocab, N_EMBD), 1.0)
    embd[:, 0] = 8.0
    embd[:, 1] = 0.0
    embd[newline, 1] = 8.0
    writer.add_tensor("token_embd.weight", embd)

    scale = 1.0 / np.sqrt(N_EMBD)
    for layer in range(N_LAYER):
        blk = f"blk.{layer}."
        writer.add_tensor(blk + "attn_norm.weight", np.ones(N_EMBD, dtype=f32))
        for name in ("attn_q", "attn_k", "attn_v"):
            writer.add_tensor(blk + name + ".weight", randn((N_EMBD, N_EMBD), scale))
        attn_out = randn((N_EMBD, N_EMBD), 0.5 * scale)
        attn_out[:2, :] = 0.0  # never write residual dims 0 and 1
        writer.add_tensor(blk + "attn_output.weight", attn_out)
        writer.add_tensor(blk + "ffn_norm.weight", np.ones(N_EMBD, dtype=f32))
        writer.add_tensor(blk + "ffn_gate.weight", randn((N_FF, N_EMBD), scale))
        writer.add_tensor(blk + "ffn_up.weight", randn((N_FF, N_EMBD), scale))
        ffn_down = randn((N_EMBD, N_FF), 0.5 / np.sqrt(N_FF))
        ffn_down[:2, :] = 0.0
        writer.add_tensor(blk + "ffn_down.weight", ffn_down)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=f32))

    output = randn((n_vocab, N_EMBD), 0.35)
    bias = {_NEVER: -6.0, _EOS: eos_bias, _TEXT: 0.0}
    output[:, 0] = [bias[klass] for klass in classes]
    for token, klass in enumerate(classes):
        if klass == _EOS:  # bias only: a steady per-step chance to stop
            output[token, 1:] = 0.0
    # Column 1 acts only right after "\n" (after RMSNorm dim 1 is ~4.3 there).
    output[:, 1] = 0.0
    output[pieces.index("<"), 1] = 12.0 / 4.3
    output[pieces.index("f"), 1] = 8.0 / 4.3
    if hermes_tool_bias:
        output[pieces.index("<tool_call>\n"), 1] = 20.0 / 4.3
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return sha256_of(out)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output .gguf path")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="llama_cpp_python")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--eos-bias", type=float, default=0.6, help="higher stops sooner")
    args = parser.parse_args(argv)
    digest = generate(args.out, variant=args.variant, seed=args.seed, eos_bias=args.eos_bias)
    print(f"{args.out} sha256={digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
