# Independent check of src/models/reference.ts: a vectorized numpy forward written the way Hugging Face
# LlamaForCausalLM computes it (eager attention with a finfo.min additive mask, rotate_half RoPE,
# repeat_kv, SwiGLU). Prints the values hard-coded in test/models/reference.test.ts.
# Usage: MUSKETEERS_DUMP_REFERENCE_CASE=/tmp/case.json node --test dist/test/models/reference.test.js
#        python3 test/models/hf-numpy-reference.py /tmp/case.json
import json, sys
import numpy as np

d = json.load(open(sys.argv[1]))
c = d['config']
W = {k: np.array(v['data'], dtype=np.float64).reshape(v['shape']) for k, v in d['weights'].items()}
ids = np.array(d['ids']); mask = np.array(d['mask'])
B, T = ids.shape; nH = c['numHeads']; nKV = c['numKvHeads']; D = c['headDim']; rep = nH // nKV

def rms(x, w): return w * (x / np.sqrt((x ** 2).mean(-1, keepdims=True) + c['rmsNormEps']))
def rotate_half(x): return np.concatenate([-x[..., D // 2:], x[..., :D // 2]], -1)
def lin(x, n, bias): return x @ W[n + '.weight'].T + (W[n + '.bias'] if bias else 0)

inv_freq = 1.0 / (c['ropeTheta'] ** (np.arange(0, D, 2) / D))
pos = np.clip(np.cumsum(mask, -1) - 1, 0, None)
freqs = pos[..., None] * inv_freq
emb = np.concatenate([freqs, freqs], -1)
cos = np.cos(emb)[:, None]; sin = np.sin(emb)[:, None]          # [B, 1, T, D]
causal = np.triu(np.ones((T, T)), 1).astype(bool)
additive = np.where(causal[None, None] | (mask[:, None, None, :] == 0), np.finfo(np.float64).min, 0.0)

x = W['model.embed_tokens.weight'][ids]; hs = [x]
for l in range(c['numLayers']):
    p = f'model.layers.{l}'; bias = c['attentionBias']
    h = rms(x, W[p + '.input_layernorm.weight'])
    q = lin(h, p + '.self_attn.q_proj', bias).reshape(B, T, nH, D).transpose(0, 2, 1, 3)
    k = lin(h, p + '.self_attn.k_proj', bias).reshape(B, T, nKV, D).transpose(0, 2, 1, 3)
    v = lin(h, p + '.self_attn.v_proj', bias).reshape(B, T, nKV, D).transpose(0, 2, 1, 3)
    q = q * cos + rotate_half(q) * sin; k = k * cos + rotate_half(k) * sin
    k = np.broadcast_to(k[:, :, None], (B, nKV, rep, T, D)).reshape(B, nH, T, D)
    v = np.broadcast_to(v[:, :, None], (B, nKV, rep, T, D)).reshape(B, nH, T, D)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + additive
    s = s - s.max(-1, keepdims=True); pr = np.exp(s); pr /= pr.sum(-1, keepdims=True)
    x = x + (pr @ v).transpose(0, 2, 1, 3).reshape(B, T, nH * D) @ W[p + '.self_attn.o_proj.weight'].T
    h2 = rms(x, W[p + '.post_attention_layernorm.weight'])
    g = h2 @ W[p + '.mlp.gate_proj.weight'].T; u = h2 @ W[p + '.mlp.up_proj.weight'].T
    x = x + ((g / (1 + np.exp(-g))) * u) @ W[p + '.mlp.down_proj.weight'].T
    hs.append(x)
head = W['model.embed_tokens.weight'] if c['tieWordEmbeddings'] else W['lm_head.weight']
logits = rms(x, W['model.norm.weight']) @ head.T
for b, t in [(0, 0), (0, 5), (1, 3)]: print(f'logits[{b},{t},:4]', logits[b, t, :4].tolist())
print('hidden_states[2][0,1,:4]', hs[2][0, 1, :4].tolist())
