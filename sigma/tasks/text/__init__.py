"""Text infilling as a σ-GPT task, one concept per module:

- `bpe`: the shipped byte-level BPEs as `tiktoken.Encoding`s (offline), encode and decode;
- `corpus`: the Shakespeare plays, token windows and random blank masks for training and benchmarks;
- `passage`: the blank syntax, `Passage`, a fill shown back with its blanks in brackets;
- `lines`: no line break in a blank inside a verse line (a forbid mask);
- `lengths`: "[...]" blanks, filled at every length and ranked by the model's own likelihood;
- `task`: the `Task` the app and the API hold, and the page's examples.

The names below are the package's public API (`from sigma.tasks import text as tx; tx.parse_passage(...)`).
"""

from sigma.tasks.text.bpe import (
    PAD,
    RANKS_FILE,
    SPLIT_PATTERN,
    VOCAB_SIZE,
    VOCAB_SIZES,
    bpe_size,
    decode,
    encode,
    get_encoding,
    make_encoding,
    piece,
    ranks_file,
    read_ranks,
    readable_pieces,
)
from sigma.tasks.text.corpus import (
    corpus_tokens,
    load_plays,
    markdown_to_text,
    play_tokens,
    plays_dir,
    random_blanks,
    random_spans,
    split_plays,
    windows,
)
from sigma.tasks.text.lines import line_break_mask, mid_line, newline_tokens
from sigma.tasks.text.passage import (
    BLANK,
    MAX_CHARS,
    MAX_LENGTH,
    Passage,
    blank_syntax,
    check_characters,
    check_length,
    parse_blanks,
    parse_passage,
    parse_template,
    plain_newlines,
    show_fill,
)
from sigma.tasks.text.task import EXAMPLES, TASK, Filled, TextTask

__all__ = [
    "BLANK",
    "EXAMPLES",
    "MAX_CHARS",
    "MAX_LENGTH",
    "PAD",
    "RANKS_FILE",
    "SPLIT_PATTERN",
    "TASK",
    "VOCAB_SIZE",
    "VOCAB_SIZES",
    "Filled",
    "Passage",
    "TextTask",
    "blank_syntax",
    "check_characters",
    "check_length",
    "bpe_size",
    "corpus_tokens",
    "decode",
    "encode",
    "get_encoding",
    "line_break_mask",
    "load_plays",
    "make_encoding",
    "markdown_to_text",
    "mid_line",
    "newline_tokens",
    "parse_blanks",
    "parse_passage",
    "parse_template",
    "piece",
    "readable_pieces",
    "plain_newlines",
    "play_tokens",
    "plays_dir",
    "random_blanks",
    "random_spans",
    "ranks_file",
    "read_ranks",
    "show_fill",
    "split_plays",
    "windows",
]
