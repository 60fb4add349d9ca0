// The project's single TensorFlow.js entry point. `@tensorflow/tfjs` (not tfjs-core alone) because only
// the full bundle registers the gradient functions in Node; it also registers the pure-JS `cpu` backend.
// Backend choice lives in ./backend.ts.

export * from '@tensorflow/tfjs';
