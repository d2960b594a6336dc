"""The site table that every "self-attention, ungated cross-attention, FFN" DiT block shares.

Wan (and everything built on its transformer: SkyReels-V2, VACE, video-to-video) and LTX-Video
write the same three residual adds, read off their diffusers model files:

    h = h + gate   * attn1(modulate(norm1(h)))      # gated by timestep
    h = h +          attn2(norm2(h), text)          # NOT gated: where the prompt enters the video
    h = h + gate'  * ffn(modulate(norm3(h)))        # gated by timestep

They differ only in the FFN module's name (`ffn` in Wan, `ff` in LTX), so one function writes
the table for both.
"""

from __future__ import annotations

from weditor.adapters.base import Site


def cross_attention_dit_sites(ffn: str) -> dict[str, Site]:
    """Sites of a block whose FFN module is called `ffn`; the cross-attention write is the ungated one."""
    return {
        "ffn_in": Site((f"{ffn}.net.0.proj",), "reads", doc="first FFN linear (the paper's edit site)"),
        "self_attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="self-attention q, k, v"),
        "cross_attn_in": Site(("attn2.to_q",), "reads", doc="cross-attention query"),
        "cross_attn_kv_in": Site(
            ("attn2.to_k", "attn2.to_v"),
            "reads",
            tokens="text",
            doc="cross-attention key and value: where each block reads the prompt",
        ),
        "self_attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="self-attention output"),
        "cross_attn_out": Site(("attn2.to_out.0",), "writes", gated=False, doc="cross-attention output"),
        "ffn_out": Site((f"{ffn}.net.2",), "writes", gated=True, doc="second FFN linear"),
    }


UNGATED_CROSS_ATTENTION_WRITE = "attn2.to_out.0"
