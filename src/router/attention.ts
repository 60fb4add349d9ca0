// The router's cross-attention modes (kept apart from perceiver.ts so the config schema does not load tfjs).

export type RouterAttention = 'learned' | 'uniform' | 'top1';
export const ROUTER_ATTENTIONS: readonly RouterAttention[] = ['learned', 'uniform', 'top1'];
