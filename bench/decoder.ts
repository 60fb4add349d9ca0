// The tfjs decoder per backend: KV-cached sampling tokens/s and teacher-forced forward+backward tokens/s,
// for the quickstart policy architecture and the 128-wide, 4-layer reference configuration.

import { join } from 'node:path';

import { loadConfig } from '../src/config.js';
import { BACKEND_NAMES, selectBackend } from '../src/models/backend.js';
import { BENCH_CONFIG, benchDecoder } from '../src/models/bench-decoder.js';
import { decoderConfig } from '../src/models/decoder-config.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { round, type BenchContext, type BenchSection } from './common.js';

export async function benchDecoders(ctx: BenchContext): Promise<BenchSection> {
  const { config } = loadConfig(join(PACKAGE_ROOT, 'configs', 'quickstart.yaml'));
  const policy = config.world!.models.find((m) => m.role === 'policy')!;
  const configs = [
    { label: `quickstart policy (${policy.architecture.hiddenSize}x${policy.architecture.numLayers})`, arch: decoderConfig({ vocabSize: 512, ...policy.architecture }) },
    { label: 'reference (128x4, vocab 512)', arch: BENCH_CONFIG },
  ];
  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  for (const backend of [...BACKEND_NAMES].reverse()) {
    try {
      await selectBackend(backend);
    } catch (error) {
      rows.push([backend, '-', '-', '-', '-', `unavailable: ${(error as Error).message.split('\n')[0].slice(0, 60)}`]);
      records.push({ backend, available: false });
      continue;
    }
    for (const { label, arch } of configs) {
      const slow = backend === 'cpu';
      const batch = ctx.quick || slow ? 2 : 8;
      const seq = ctx.quick || slow ? 32 : 64;
      const r = await benchDecoder(backend, arch, { batch, seq, repeats: ctx.quick ? 1 : 3 });
      records.push({ backend, available: true, model: label, batch, seq, sampleTokensPerSec: r.sampleTokensPerSec, forwardTokensPerSec: r.forwardTokensPerSec, forwardBackwardTokensPerSec: r.forwardBackwardTokensPerSec, ms: r.ms });
      rows.push([backend, label, `${batch}x${seq}`, round(r.sampleTokensPerSec, 0), round(r.forwardBackwardTokensPerSec, 0), '']);
    }
  }
  return { name: 'decoder', title: 'TensorFlow.js decoder per backend', headers: ['backend', 'model', 'batch x tokens', 'sample tok/s', 'fwd+bwd tok/s', 'note'], rows, records };
}
